// `lifeline dump`: one file of a snapshot as its bytes, or a directory (the whole snapshot at /) as a tar stream,
// written to a stream as it is read: blob by blob, each decrypted and checked against its id (a blob that does not
// match stops the dump with an error, never passes on altered bytes). Memory stays bounded by a pack at a time,
// whatever the size of the file or the tree. Under a shared lock, as a restore: a prune cannot remove what is
// being read.
import path from 'node:path';
import type { Writable } from 'node:stream';

import { pack as tarPack, type Header } from 'tar-stream';

import { displayPath, parseDisplayPath } from '../byte-names';
import { EngineError } from '../errors';
import { type ReaderLockOptions, underReaderLock } from '../repository/lock';
import type { Repository } from '../repository/repository';
import type { TreeNode } from '../repository/tree';

export interface DumpOptions extends ReaderLockOptions {
  snapshot: string;
  /** The path in the snapshot, as `ls` shows it (a byte that is not UTF-8 as \xNN). */
  path: string;
  source?: string;
  /** Told what the output will be once the path is found, before the first byte is written. */
  onStart?: (kind: DumpResult['kind']) => void;
}

export interface DumpResult {
  snapshot: string;
  path: string;
  /** A file's bytes, or a directory's tar stream. */
  kind: 'file' | 'tar';
  files: number;
  bytes: number;
  /** Entries a tar stream cannot hold (sockets, devices, which a backup never saves anyway), by path. */
  skipped: string[];
}

/** The entry at `want` in the snapshot's tree: the root, a directory or a file. */
async function findEntry(repo: Repository, root: string, want: string): Promise<TreeNode | { root: string }> {
  let treeId = root;
  let found: TreeNode | { root: string } = { root };
  const parts = want.split('/').filter(Boolean);
  for (const [i, part] of parts.entries()) {
    const nodes = (await repo.readTree(treeId)).nodes;
    const bytes = parseDisplayPath(part);
    const node = nodes.find((n) => n.name === part) ?? nodes.find((n) => bytes !== null && n.name === bytes);
    if (!node) throw new EngineError('not-found', `${want} is not in the snapshot`);
    if (i < parts.length - 1 && !node.subtree) throw new EngineError('not-found', `${want} is not in the snapshot`);
    found = node;
    if (node.subtree) treeId = node.subtree;
  }
  return found;
}

/** Where bytes go: the output, or a file's entry in a tar stream. */
interface Sink {
  write(chunk: Buffer): boolean;
  once(event: 'drain' | 'error', listener: (err?: Error) => void): unknown;
}

/** Writes, and waits while the reader is behind: a slow download holds the dump, never fills memory. */
async function write(out: Sink, chunk: Buffer, signal: AbortSignal | undefined): Promise<void> {
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    out.once('drain', () => resolve());
    out.once('error', reject);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export function runDump(repo: Repository, out: Writable, options: DumpOptions): Promise<DumpResult> {
  return underReaderLock(
    (o) => repo.lock(o),
    'dump',
    options,
    async () => {
      await repo.loadIndex();
      const snap = await repo.resolveSnapshot(options.snapshot, { source: options.source });
      const want = path.posix.resolve('/', options.path);
      const entry = await findEntry(repo, snap.tree, want);
      const result: DumpResult = { snapshot: snap.id, path: want, kind: 'file', files: 0, bytes: 0, skipped: [] };
      if ('root' in entry || entry.subtree) {
        result.kind = 'tar';
        options.onStart?.('tar');
        await dumpTree(repo, 'root' in entry ? null : entry, snap.tree, want, out, result, options.signal);
        return result;
      }
      if (entry.type !== 'file') throw new EngineError('invalid-argument', `${want} is a ${entry.type}, not a file`);
      options.onStart?.('file');
      for (const id of entry.content ?? []) {
        options.signal?.throwIfAborted();
        const data = await repo.readBlob(id);
        await write(out, data, options.signal);
        result.bytes += data.length;
      }
      result.files = 1;
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      return result;
    },
  );
}

/** A directory as a tar stream: names relative to it (under its own name), modes, times and owners as saved, links
 *  as links. */
async function dumpTree(
  repo: Repository,
  /** The directory's own entry; null for the snapshot's root. */
  self: TreeNode | null,
  rootTree: string,
  at: string,
  out: Writable,
  result: DumpResult,
  signal: AbortSignal | undefined,
): Promise<void> {
  const tar = tarPack();
  const piped = new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.once('finish', resolve);
  });
  tar.pipe(out);
  const base = at === '/' ? 'snapshot' : path.posix.basename(at);
  const header = (node: TreeNode, name: string): Partial<Header> & { name: string } => ({
    name,
    mode: node.mode,
    mtime: new Date(Number(BigInt(node.mtimeNs) / 1_000_000n)),
    uid: node.uid,
    gid: node.gid,
  });
  const walk = async (id: string, prefix: string): Promise<void> => {
    for (const node of (await repo.readTree(id)).nodes) {
      signal?.throwIfAborted();
      const name = `${prefix}/${displayPath(node.name)}`;
      if (node.type === 'dir') {
        tar.entry({ ...header(node, name), type: 'directory' });
        await walk(node.subtree!, name);
      } else if (node.type === 'symlink') {
        tar.entry({ ...header(node, name), type: 'symlink', linkname: displayPath(node.target ?? '') });
      } else if (node.type === 'file') {
        let ended: (err?: Error | null) => void = () => {};
        const done = new Promise<void>((resolve, reject) => {
          ended = (err) => (err ? reject(err) : resolve());
        });
        // The entry's size is the saved one: content that adds up to another stops the stream with an error.
        const entry = tar.entry({ ...header(node, name), type: 'file', size: node.size ?? 0 }, (err) => ended(err));
        for (const blob of node.content ?? []) {
          const data = await repo.readBlob(blob);
          await write(entry as unknown as Sink, data, signal);
          result.bytes += data.length;
        }
        entry.end(undefined);
        await done;
        result.files++;
      } else result.skipped.push(path.posix.join(at, displayPath(node.name)));
    }
  };
  tar.entry(self ? { ...header(self, base), type: 'directory' } : { name: base, type: 'directory', mode: 0o755 });
  await walk(self ? self.subtree! : rootTree, base);
  tar.finalize();
  await piped;
}
