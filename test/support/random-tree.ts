// Random file trees for property tests, from a seed: names of any bytes (1–255, no NUL or '/'), depths, sizes,
// holes, symbolic links with any target, hard links, FIFOs, modes and modification times. And a description of a
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
} from 'node:fs';

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
}

/** Makes a random tree in `root` (which must exist); at most `maxEntries` entries. With `owners` (as root), entries
 *  get random owners too. */
export function makeRandomTree(
  root: string,
  seed: number,
  options: { maxEntries?: number; owners?: boolean } = {},
): TreeStats {
  const maxEntries = options.maxEntries ?? 120;
  const random = rng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
  const stats: TreeStats = { files: 0, dirs: 0, links: 0, hardLinks: 0, fifos: 0, sparse: 0, bytes: 0 };
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
    chmodSync(file, pick(FILE_MODES));
    const t = mtime();
    utimesSync(file, t, t);
  }
  for (const dir of dirs.slice(1).sort((a, b) => b.depth - a.depth)) {
    chmodSync(dir.path, pick(DIR_MODES));
    const t = mtime();
    utimesSync(dir.path, t, t);
  }
  return stats;
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
        out.set(key, { type: 'dir', ...base, mtimeNs: st.mtimeNs.toString() });
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
        });
      } else out.set(key, { type: st.isFIFO() ? 'fifo' : 'other', ...base, mtimeNs: st.mtimeNs.toString() });
    }
  };
  walk(Buffer.from(root), '');
  for (const group of inodes.values()) for (const key of group) out.get(key)!.linkGroup = [...group].sort();
  return out;
}
