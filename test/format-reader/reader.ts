// A second, independent reader for the Lifeline repository format, written from
// docs/repository-format.md alone. It imports nothing from lib/ (only Node built-ins
// and zstd-napi), so that it proves the document is enough to list, restore and
// verify a repository.

import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHash, createHmac, scryptSync, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { decompress } from 'zstd-napi';

const NEWEST_FORMAT = 1;
// `ctime` adds a field a restore does not use; `byte-names` adds nameBytes and targetBytes (docs, "Features");
// `xattrs` adds extended attributes, which this reader leaves unset (Node has no call for them).
const KNOWN_FEATURES: string[] = ['byte-names', 'ctime', 'xattrs'];
const HEX_ID = /^[0-9a-f]{64}$/;

type BlobLocation = { pack: string; type: string; offset: number; length: number; rawLength: number };
type TreeNode = {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo';
  mode: number;
  mtimeNs: string;
  content?: string[];
  size?: number;
  subtree?: string;
  target?: string;
  nameBytes?: string;
  targetBytes?: string;
};
export type SnapshotInfo = { id: string; time: string; source: string; tags: string[]; paths: string[]; tree: string };

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function unseal(key: Buffer, sealed: Buffer, context: string): Buffer {
  if (sealed.length < 28) throw new Error(`sealed object too short (${sealed.length} bytes)`);
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  d.setAAD(Buffer.from(context, 'utf8'));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
}

/** Names of finished objects in a directory (unfinished `.tmp-` writes skipped). */
async function listNames(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter((n) => !n.includes('.tmp-')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** An entry's name as bytes: `nameBytes` (base64) when present, else the UTF-8 of `name`; refused if unsafe. */
function safeName(node: TreeNode): Buffer {
  if (typeof node.name !== 'string') throw new Error(`entry without a name: ${JSON.stringify(node)}`);
  const name = node.nameBytes === undefined ? Buffer.from(node.name, 'utf8') : Buffer.from(node.nameBytes, 'base64');
  const text = name.toString('latin1');
  if (name.length === 0 || text === '.' || text === '..' || name.includes(0x2f) || name.includes(0)) {
    throw new Error(`unsafe entry name in tree: ${JSON.stringify(text)}`);
  }
  return name;
}

const targetOf = (node: TreeNode): Buffer =>
  node.targetBytes === undefined ? Buffer.from(node.target as string, 'utf8') : Buffer.from(node.targetBytes, 'base64');

/** Paths are bytes: a name need not be UTF-8. */
const join = (dir: Buffer, name: Buffer) => Buffer.concat([dir, Buffer.from('/'), name]);

export class Repo {
  private index = new Map<string, BlobLocation>();
  private loadProblems: string[] = [];

  constructor(
    readonly dir: string,
    private encKey: Buffer,
    private idKey: Buffer,
  ) {}

  packPath(id: string): string {
    return path.join(this.dir, 'data', id.slice(0, 2), id);
  }

  async loadIndex(): Promise<void> {
    for (const name of await listNames(path.join(this.dir, 'index'))) {
      try {
        const bytes = await fs.readFile(path.join(this.dir, 'index', name));
        if (sha256(bytes) !== name) throw new Error('content does not match its name');
        const json = JSON.parse(decompress(unseal(this.encKey, bytes, 'lifeline index')).toString('utf8'));
        for (const p of json.packs ?? []) {
          for (const b of p.blobs ?? []) {
            this.index.set(b.id, {
              pack: p.id,
              type: b.type,
              offset: b.offset,
              length: b.length,
              rawLength: b.rawLength,
            });
          }
        }
      } catch (e) {
        this.loadProblems.push(`index ${name}: ${(e as Error).message}`);
      }
    }
  }

  /** Unseals one stored blob, decodes it and checks it against its id. */
  openBlob(id: string, sealed: Buffer, rawLength?: number): Buffer {
    const inner = unseal(this.encKey, sealed, 'lifeline blob');
    let plain: Buffer;
    if (inner[0] === 0) plain = inner.subarray(1);
    else if (inner[0] === 1) plain = decompress(inner.subarray(1));
    else throw new Error(`blob ${id}: unknown flag byte ${inner[0]}`);
    if (createHmac('sha256', this.idKey).update(plain).digest('hex') !== id) {
      throw new Error(`blob ${id}: plaintext does not hash to its id`);
    }
    if (rawLength !== undefined && plain.length !== rawLength) {
      throw new Error(`blob ${id}: plaintext length ${plain.length}, expected ${rawLength}`);
    }
    return plain;
  }

  async readBlob(id: string): Promise<Buffer> {
    const loc = this.index.get(id);
    if (!loc) throw new Error(`blob ${id} is not in the index`);
    const fh = await fs.open(this.packPath(loc.pack), 'r');
    try {
      const buf = Buffer.alloc(loc.length);
      const { bytesRead } = await fh.read(buf, 0, loc.length, loc.offset);
      if (bytesRead !== loc.length) throw new Error(`blob ${id}: pack ${loc.pack} is truncated`);
      return this.openBlob(id, buf, loc.rawLength);
    } finally {
      await fh.close();
    }
  }

  async readTree(id: string): Promise<TreeNode[]> {
    return JSON.parse((await this.readBlob(id)).toString('utf8')).nodes;
  }

  async readSnapshot(id: string): Promise<Record<string, unknown>> {
    const bytes = await fs.readFile(path.join(this.dir, 'snapshots', id));
    if (sha256(bytes) !== id) throw new Error(`snapshot ${id}: content does not match its name`);
    return JSON.parse(unseal(this.encKey, bytes, 'lifeline snapshot').toString('utf8'));
  }

  async listSnapshots(): Promise<SnapshotInfo[]> {
    const out: SnapshotInfo[] = [];
    for (const id of await listNames(path.join(this.dir, 'snapshots'))) {
      const s = await this.readSnapshot(id);
      out.push({
        id,
        time: s.time as string,
        source: s.source as string,
        tags: (s.tags as string[]) ?? [],
        paths: (s.paths as string[]) ?? [],
        tree: s.tree as string,
      });
    }
    return out.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || (a.id < b.id ? -1 : 1));
  }

  private async resolveSnapshot(ref: string): Promise<string> {
    const all = await this.listSnapshots();
    if (ref === 'latest' && all.length) return all[all.length - 1].id;
    const hits = ref.length >= 4 ? all.filter((s) => s.id.startsWith(ref)) : [];
    if (hits.length !== 1) throw new Error(`snapshot ${ref}: ${hits.length ? 'ambiguous' : 'not found'}`);
    return hits[0].id;
  }

  async restore(snapshotId: string, target: string): Promise<void> {
    const id = await this.resolveSnapshot(snapshotId);
    const snap = await this.readSnapshot(id);
    const later: { p: Buffer; node: TreeNode; depth: number }[] = [];
    const walk = async (treeId: string, dir: Buffer, depth: number) => {
      for (const node of await this.readTree(treeId)) {
        const p = join(dir, safeName(node));
        if (node.type === 'dir') {
          await fs.mkdir(p, { recursive: true });
          await walk(node.subtree as string, p, depth + 1);
        } else if (node.type === 'file') {
          const fh = await fs.open(p, 'w', 0o600);
          let size = 0;
          try {
            for (const blobId of node.content ?? []) {
              const data = await this.readBlob(blobId);
              await fh.write(data);
              size += data.length;
            }
          } finally {
            await fh.close();
          }
          if (node.size !== undefined && size !== node.size)
            throw new Error(`${p}: restored ${size} bytes, expected ${node.size}`);
        } else if (node.type === 'symlink') {
          await fs.symlink(targetOf(node), p);
          continue;
        } else if (node.type === 'fifo') {
          // mkfifo(1) takes its path as text: made under a UTF-8 name in the target, then renamed.
          const temp = path.join(target, `.fifo-${later.length}`);
          execFileSync('mkfifo', ['-m', '600', temp]);
          await fs.rename(temp, p);
        } else {
          throw new Error(`${p}: unknown node type ${JSON.stringify(node.type)}`);
        }
        later.push({ p, node, depth });
      }
    };
    await fs.mkdir(target, { recursive: true });
    await walk(snap.tree as string, Buffer.from(target), 0);
    const setMeta = async ({ p, node }: { p: Buffer; node: TreeNode }) => {
      await fs.chmod(p, node.mode & 0o7777);
      const t = Number(BigInt(node.mtimeNs) / 1000n) / 1e6; // seconds, microsecond precision
      await fs.utimes(p, t, t);
    };
    for (const e of later.filter((e) => e.node.type !== 'dir')) await setMeta(e);
    const dirs = later.filter((e) => e.node.type === 'dir').sort((a, b) => b.depth - a.depth);
    for (const e of dirs) await setMeta(e);
  }

  async check(): Promise<string[]> {
    const problems = [...this.loadProblems];
    // Objects named by the SHA-256 of their bytes.
    for (const kind of ['keys', 'index', 'snapshots']) {
      for (const name of await listNames(path.join(this.dir, kind))) {
        const bytes = await fs.readFile(path.join(this.dir, kind, name));
        if (sha256(bytes) !== name) problems.push(`${kind}/${name}: content does not match its name`);
      }
    }
    // Packs: name, header, every blob.
    const headers = new Map<string, Map<string, { offset: number; length: number }>>();
    for (const sub of await listNames(path.join(this.dir, 'data'))) {
      for (const name of await listNames(path.join(this.dir, 'data', sub))) {
        const where = `pack ${name}`;
        const bytes = await fs.readFile(path.join(this.dir, 'data', sub, name));
        if (!HEX_ID.test(name) || sub !== name.slice(0, 2)) problems.push(`${where}: misplaced or misnamed`);
        if (sha256(bytes) !== name) problems.push(`${where}: content does not match its name`);
        try {
          if (bytes.length < 4) throw new Error('too short');
          const hlen = bytes.readUInt32LE(bytes.length - 4);
          const hstart = bytes.length - 4 - hlen;
          if (hstart < 0) throw new Error(`header length ${hlen} exceeds the file`);
          const header = unseal(this.encKey, bytes.subarray(hstart, bytes.length - 4), 'lifeline pack header');
          if (header.length % 41 !== 0) throw new Error(`header size ${header.length} is not a multiple of 41`);
          const blobs = new Map<string, { offset: number; length: number }>();
          headers.set(name, blobs);
          let offset = 0;
          for (let i = 0; i < header.length; i += 41) {
            const len = header.readUInt32LE(i + 1);
            const raw = header.readUInt32LE(i + 5);
            const id = header.subarray(i + 9, i + 41).toString('hex');
            blobs.set(id, { offset, length: len });
            try {
              if (offset + len > hstart) throw new Error('extends past the blobs');
              this.openBlob(id, bytes.subarray(offset, offset + len), raw);
            } catch (e) {
              problems.push(`${where}: blob ${id} at offset ${offset}: ${(e as Error).message}`);
            }
            offset += len;
          }
          if (offset !== hstart) problems.push(`${where}: blobs end at ${offset} but the header starts at ${hstart}`);
        } catch (e) {
          problems.push(`${where}: header unreadable: ${(e as Error).message}`);
        }
      }
    }
    // The index must agree with what the packs say.
    for (const [id, loc] of this.index) {
      const h = headers.get(loc.pack)?.get(id);
      if (!headers.has(loc.pack))
        problems.push(`blob ${id}: indexed in pack ${loc.pack}, which is missing or unreadable`);
      else if (!h || h.offset !== loc.offset || h.length !== loc.length) {
        problems.push(`blob ${id}: index entry disagrees with the header of pack ${loc.pack}`);
      }
    }
    // Every snapshot's tree: every referenced blob must be indexed.
    const seenTrees = new Set<string>();
    for (const id of await listNames(path.join(this.dir, 'snapshots'))) {
      let snap: Record<string, unknown>;
      try {
        snap = await this.readSnapshot(id);
      } catch (e) {
        problems.push(`snapshot ${id}: unreadable: ${(e as Error).message}`);
        continue;
      }
      const walk = async (treeId: string, where: string): Promise<void> => {
        if (seenTrees.has(treeId)) return;
        seenTrees.add(treeId);
        let nodes: TreeNode[];
        try {
          nodes = await this.readTree(treeId);
        } catch (e) {
          problems.push(`snapshot ${id}: tree ${treeId} (${where}): ${(e as Error).message}`);
          return;
        }
        for (const n of nodes) {
          const p = `${where === '/' ? '' : where}/${n.name}`;
          if (n.type === 'dir') await walk(n.subtree as string, p);
          for (const b of n.type === 'file' ? (n.content ?? []) : []) {
            if (!this.index.has(b)) problems.push(`snapshot ${id}: blob ${b} of ${p} is not in the index`);
          }
        }
      };
      await walk(snap.tree as string, '/');
    }
    return problems;
  }
}

export async function openRepository(dir: string, passphrase: string): Promise<Repo> {
  const config = JSON.parse(await fs.readFile(path.join(dir, 'config'), 'utf8'));
  if (typeof config.format !== 'number' || config.format > NEWEST_FORMAT) {
    throw new Error(`repository format ${config.format} is newer than this reader's format ${NEWEST_FORMAT}`);
  }
  const features: string[] = config.features ?? [];
  const unknown = features.filter((f) => !KNOWN_FEATURES.includes(f));
  if (unknown.length) throw new Error(`repository uses unknown feature(s): ${unknown.join(', ')}`);

  let master: { encryption: string; id: string } | undefined;
  for (const name of await listNames(path.join(dir, 'keys'))) {
    try {
      const kf = JSON.parse(await fs.readFile(path.join(dir, 'keys', name), 'utf8'));
      if (kf.kdf?.name !== 'scrypt') continue;
      const { N, r, p } = kf.kdf;
      const wrapping = scryptSync(passphrase.normalize('NFC'), Buffer.from(kf.kdf.salt, 'base64'), 32, {
        N,
        r,
        p,
        maxmem: 256 * N * r * p + (64 << 20),
      });
      master = JSON.parse(unseal(wrapping, Buffer.from(kf.data, 'base64'), 'lifeline key').toString('utf8'));
      break;
    } catch {
      // wrong passphrase for this key file, or a damaged one: try the next
    }
  }
  if (!master) throw new Error('no key file opens with this passphrase');
  const encKey = Buffer.from(master.encryption, 'base64');
  const idKey = Buffer.from(master.id, 'base64');

  const c = config;
  const macInput: unknown[] = [c.format, c.id, c.created, c.chunker.min, c.chunker.avg, c.chunker.max, c.compression];
  if (features.length) macInput.push([...features].sort());
  const mac = createHmac('sha256', idKey).update(JSON.stringify(macInput)).digest();
  const stored = Buffer.from(String(c.mac ?? ''), 'hex');
  if (stored.length !== mac.length || !timingSafeEqual(stored, mac)) {
    throw new Error('config MAC does not match: config was altered or belongs to another key');
  }

  const repo = new Repo(dir, encKey, idKey);
  await repo.loadIndex();
  return repo;
}
