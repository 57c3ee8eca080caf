// Random file trees for property tests, from a seed: names of any bytes (1–255, no NUL or '/'), depths, sizes,
// holes, symbolic links with any target, hard links, FIFOs, modes, extended attributes and POSIX ACLs, and
// modification times. And a description of a
// tree as the kernel reports it, to compare a restore with its source entry by entry.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  utimesSync,
  writeSync,
  ftruncateSync,
  chmodSync,
  lchownSync,
  rmSync,
} from 'node:fs';

import { decodeBytes } from '@/lib/engine/byte-names';
import { readXattrs, writeXattrs } from '@/lib/engine/xattrs';
import { posixAcl } from './posix-acl';

/** mulberry32: small, fast and good enough to make trees; the same seed makes the same tree. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FILE_MODES = [0o600, 0o644, 0o640, 0o755, 0o700, 0o400, 0o444, 0o4755, 0o2750];
const DIR_MODES = [0o755, 0o700, 0o750, 0o1777, 0o711];

export interface TreeStats {
  files: number;
  dirs: number;
  links: number;
  hardLinks: number;
  fifos: number;
  sparse: number;
  bytes: number;
  /** Files and directories with user attributes, and with ACLs. */
  xattrs: number;
  acls: number;
}

/** Why the file system at `dir` cannot hold user attributes and ACLs (tmpfs on older kernels), or null. */
export function xattrsRefused(dir: string): string | null {
  const probe = `${dir}/.xattr-probe`;
  closeSync(openSync(probe, 'w'));
  try {
    const refused = writeXattrs(probe, [
      { name: 'user.probe', value: '' },
      {
        name: 'system.posix_acl_access',
        value: posixAcl([
          { tag: 'user_obj', perm: 6 },
          { tag: 'group_obj', perm: 4 },
          { tag: 'other', perm: 4 },
        ]),
      },
    ]);
    return refused.length > 0 ? refused.map((r) => `${r.name}: ${r.why}`).join(', ') : null;
  } finally {
    rmSync(probe);
  }
}

/** Makes a random tree in `root` (which must exist); at most `maxEntries` entries. With `owners` (as root), entries
 *  get random owners too; with `xattrs`, user attributes and ACLs. */
export function makeRandomTree(
  root: string,
  seed: number,
  options: { maxEntries?: number; owners?: boolean; xattrs?: boolean } = {},
): TreeStats {
  const maxEntries = options.maxEntries ?? 120;
  const random = rng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
  const stats: TreeStats = {
    files: 0,
    dirs: 0,
    links: 0,
    hardLinks: 0,
    fifos: 0,
    sparse: 0,
    bytes: 0,
    xattrs: 0,
    acls: 0,
  };
  const files: Buffer[] = [];
  const dirs: { path: Buffer; depth: number }[] = [{ path: Buffer.from(root), depth: 0 }];
  const used = new Map<string, Set<string>>();
  const name = (dir: Buffer): Buffer => {
    const taken = used.get(dir.toString('hex')) ?? new Set<string>();
    used.set(dir.toString('hex'), taken);
    for (;;) {
      const length = random() < 0.7 ? 1 + int(24) : 1 + int(255);
      const bytes = Buffer.alloc(length);
      const ascii = random() < 0.5;
      for (let i = 0; i < length; i++) {
        let b = ascii ? 0x20 + int(0x5f) : 1 + int(255);
        if (b === 0x2f) b = 0x5f;
        bytes[i] = b;
      }
      const text = bytes.toString('latin1');
      if (text === '.' || text === '..' || taken.has(bytes.toString('hex'))) continue;
      taken.add(bytes.toString('hex'));
      return bytes;
    }
  };
  const join = (dir: Buffer, n: Buffer) => Buffer.concat([dir, Buffer.from('/'), n]);
  const randomBytes = (n: number) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = int(256);
    return out;
  };
  const mtime = () => 946_684_800 + int(1_000_000_000) + int(1_000_000) / 1_000_000;
  // Set before the mode (user attributes need write access).
  const userXattrs = (at: Buffer) => {
    if (!options.xattrs || random() >= 0.2) return;
    const xattrs = Array.from({ length: 1 + int(3) }, (_, k) => ({
      name: `user.${k}-${randomBytes(1 + int(12)).toString('hex')}`,
      // ext4 keeps all of an inode's attributes in one 4 KiB block: three of at most 900 bytes and an ACL fit.
      value: randomBytes(int(3) === 0 ? int(900) : int(40)).toString('base64'),
    }));
    expectSet(at, xattrs);
    stats.xattrs++;
  };
  // After the mode: an access ACL sets the group bits from its mask; directories get a default ACL too.
  const acl = (at: Buffer, dir: boolean) => {
    if (!options.xattrs || random() >= 0.15) return;
    const entries = () =>
      posixAcl([
        { tag: 'user_obj', perm: int(8) },
        { tag: 'user', id: pick([1000, 65534]), perm: int(8) },
        { tag: 'group_obj', perm: int(8) },
        { tag: 'mask', perm: int(8) },
        { tag: 'other', perm: int(8) },
      ]);
    const xattrs = [{ name: 'system.posix_acl_access', value: entries() }];
    if (dir && random() < 0.5) xattrs.push({ name: 'system.posix_acl_default', value: entries() });
    expectSet(at, xattrs);
    stats.acls++;
  };

  const entries = 10 + int(maxEntries - 10);
  for (let i = 0; i < entries; i++) {
    const dir = pick(dirs);
    const at = join(dir.path, name(dir.path));
    const kind = random();
    if (kind < 0.15 && dir.depth < 5) {
      mkdirSync(at);
      dirs.push({ path: at, depth: dir.depth + 1 });
      stats.dirs++;
    } else if (kind < 0.25) {
      const target = randomBytes(1 + int(200));
      for (let k = 0; k < target.length; k++) if (target[k] === 0) target[k] = 1;
      symlinkSync(target, at);
      stats.links++;
    } else if (kind < 0.3 && files.length > 0) {
      linkSync(pick(files), at);
      stats.hardLinks++;
    } else if (kind < 0.33) {
      // mkfifo(1) takes text: made under an ASCII name in the root, then renamed.
      const temp = `${root}/.fifo-${i}`;
      execFileSync('mkfifo', [temp]);
      renameSync(temp, at);
      stats.fifos++;
    } else {
      const fd = openSync(at, 'wx');
      const shape = random();
      if (shape < 0.15) {
        // Sparse: a little data between holes, and maybe a hole at the end.
        const size = (1 + int(16)) * (1 << 20);
        for (let k = 0; k < 3; k++) {
          const data = randomBytes(1 + int(64 * 1024));
          writeSync(fd, data, 0, data.length, int(size - data.length));
        }
        ftruncateSync(fd, size);
        stats.sparse++;
        stats.bytes += size;
      } else {
        const size = shape < 0.9 ? int(64 * 1024) : int(3 * 1024 * 1024);
        const data = random() < 0.1 ? Buffer.alloc(size) : randomBytes(size);
        if (size > 0) writeSync(fd, data, 0, size, 0);
        stats.bytes += size;
      }
      closeSync(fd);
      files.push(at);
      stats.files++;
    }
  }
  // Modes and times last, files first, then directories deepest first (writing into a directory changes its
  // time, and a read-only mode would stop the writing).
  const owner = () => pick([0, 1000, 65534]);
  if (options.owners) for (const dir of dirs.slice(1)) lchownSync(dir.path, owner(), owner());
  for (const file of files) {
    if (options.owners) lchownSync(file, owner(), owner());
    userXattrs(file);
    chmodSync(file, pick(FILE_MODES));
    acl(file, false);
    const t = mtime();
    utimesSync(file, t, t);
  }
  for (const dir of dirs.slice(1).sort((a, b) => b.depth - a.depth)) {
    userXattrs(dir.path);
    chmodSync(dir.path, pick(DIR_MODES));
    acl(dir.path, true);
    const t = mtime();
    utimesSync(dir.path, t, t);
  }
  return stats;
}

function expectSet(at: Buffer, xattrs: { name: string; value: string }[]): void {
  const refused = writeXattrs(decodeBytes(at), xattrs);
  if (refused.length > 0) throw new Error(`the file system refused attributes: ${JSON.stringify(refused)}`);
}

export interface KernelEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  mtimeNs?: string;
  sha256?: string;
  target?: string;
  /** Files: the other names (relative, hex) of the same inode, sorted. */
  linkGroup?: string[];
  /** Files: 512-byte blocks the kernel reports. */
  blocks?: number;
  /** Files and directories: extended attributes, ACLs among them, as name=value (base64), sorted. */
  xattrs?: string[];
}

function xattrsOf(entry: Buffer): { xattrs?: string[] } {
  const xattrs = readXattrs(decodeBytes(entry)).map((x) => `${x.name}=${x.value}`);
  return xattrs.length > 0 ? { xattrs } : {};
}

/** Every entry below `root` as lstat and readlink report it, keyed by its path's bytes in hex (names are bytes). */
export function describeKernel(root: string): Map<string, KernelEntry> {
  const out = new Map<string, KernelEntry>();
  const inodes = new Map<bigint, string[]>();
  const walk = (dir: Buffer, rel: string) => {
    for (const n of readdirSync(dir, { encoding: 'buffer' })) {
      const full = Buffer.concat([dir, Buffer.from('/'), n]);
      const key = rel ? `${rel}/${n.toString('hex')}` : n.toString('hex');
      const st = lstatSync(full, { bigint: true });
      const base = { mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
      if (st.isSymbolicLink()) {
        out.set(key, {
          type: 'symlink',
          ...base,
          mode: 0,
          target: readlinkSync(full, { encoding: 'buffer' }).toString('hex'),
        });
      } else if (st.isDirectory()) {
        out.set(key, { type: 'dir', ...base, mtimeNs: st.mtimeNs.toString(), ...xattrsOf(full) });
        walk(full, key);
      } else if (st.isFile()) {
        inodes.set(st.ino, [...(inodes.get(st.ino) ?? []), key]);
        out.set(key, {
          type: 'file',
          ...base,
          size: Number(st.size),
          mtimeNs: st.mtimeNs.toString(),
          sha256: createHash('sha256').update(readFileSync(full)).digest('hex'),
          blocks: Number(st.blocks),
          ...xattrsOf(full),
        });
      } else out.set(key, { type: st.isFIFO() ? 'fifo' : 'other', ...base, mtimeNs: st.mtimeNs.toString() });
    }
  };
  walk(Buffer.from(root), '');
  for (const group of inodes.values()) for (const key of group) out.get(key)!.linkGroup = [...group].sort();
  return out;
}
