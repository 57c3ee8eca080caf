// What a backup changed, as the repository holds it: how much of the snapshot's content is in blobs its source's
// previous snapshot did not have, and how well that new content compressed. The figures come from the snapshot's
// tree and from the headers of the packs that hold the new blobs, never from the summary the backup wrote: a node
// whose files ransomware is encrypting is exactly the one whose report is not to be trusted (lib/control/anomalies.ts
// judges these figures).
import { fetchPackHeader, type PackEntry } from '../repository/pack';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import { EngineError } from '../errors';
import { contentBytes } from './repository-stats';

export interface BackupFigures {
  snapshot: string;
  /** The source's snapshot this one is compared with: its parent, else the one before it; null for a first. */
  previous: string | null;
  /** Bytes of file content in the snapshot (its tree's sizes). */
  bytes: number;
  /** Data blobs in the snapshot that the previous one does not reference, their plaintext bytes, and their bytes
   *  as stored (compressed and sealed), from their packs' headers. */
  newBlobs: number;
  newRawBytes: number;
  newStoredBytes: number;
}

/** The share of the snapshot's content that is new: 0 for an empty snapshot. */
export function newRatio(f: Pick<BackupFigures, 'bytes' | 'newRawBytes'>): number {
  return f.bytes > 0 ? f.newRawBytes / f.bytes : 0;
}

/** How many times smaller the new content is stored than it is: null when nothing is new. */
export function compressionRatio(f: Pick<BackupFigures, 'newRawBytes' | 'newStoredBytes'>): number | null {
  return f.newStoredBytes > 0 ? f.newRawBytes / f.newStoredBytes : null;
}

/** The snapshot a backup is compared with: its parent if the repository still has it, else the source's newest
 *  earlier snapshot. */
export function previousOf(snapshot: SnapshotRecord, all: SnapshotRecord[]): SnapshotRecord | null {
  const parent = snapshot.parent ? all.find((s) => s.id === snapshot.parent) : undefined;
  if (parent) return parent;
  const earlier = all.filter(
    (s) => s.source === snapshot.source && s.id !== snapshot.id && s.time.localeCompare(snapshot.time) < 0,
  );
  return earlier.at(-1) ?? null;
}

export async function backupFigures(
  repo: Repository,
  snapshot: SnapshotRecord,
  previous: SnapshotRecord | null,
): Promise<BackupFigures> {
  await repo.loadIndex();
  const added = new Set<string>();
  let bytes = 0;
  const removed = new Set<string>();
  const sized = new Map<string, number>();
  // Only the subtrees that differ are walked: an unchanged directory has the same tree blob in both, and only its
  // size is needed. A file copied from an unchanged one counts as new: it is content the snapshot added.
  const walk = async (newer: string, older: string | null): Promise<void> => {
    if (newer === older) {
      bytes += await contentBytes(repo, newer, sized);
      return;
    }
    const before = new Map(older ? (await repo.readTree(older)).nodes.map((n) => [n.name, n]) : []);
    for (const node of (await repo.readTree(newer)).nodes) {
      const was = before.get(node.name);
      before.delete(node.name);
      if (node.type === 'dir' && node.subtree && was?.type === 'dir' && was.subtree) {
        await walk(node.subtree, was.subtree);
        continue;
      }
      if (node.type === 'dir' && node.subtree) await walk(node.subtree, null);
      if (node.type === 'file') bytes += node.size ?? 0;
      for (const id of node.content ?? []) added.add(id);
      if (was) await collectContent(repo, was, removed);
    }
    // What the older tree had here and the newer does not: its blobs are not new if they moved elsewhere.
    for (const gone of before.values()) await collectContent(repo, gone, removed);
  };
  await walk(snapshot.tree, previous?.tree ?? null);
  // A blob the previous snapshot held in a directory that changed is not new, wherever it moved to.
  const fresh = [...added].filter((id) => !removed.has(id));
  const byPack = new Map<string, Set<string>>();
  for (const id of fresh) {
    const at = repo.index.get(id);
    if (!at)
      throw new EngineError(
        'corrupt',
        `snapshot ${snapshot.id.slice(0, 8)} references blob ${id.slice(0, 12)}, which no index lists`,
      );
    const ids = byPack.get(at.pack) ?? new Set<string>();
    byPack.set(at.pack, ids);
    ids.add(id);
  }
  // A pack's header is checked against the pack's size (readPackHeader): the listing gives it.
  const sizes = byPack.size > 0 ? new Map((await repo.storage.list('data')).map((o) => [o.name, o.size])) : new Map();
  let newRawBytes = 0;
  let newStoredBytes = 0;
  for (const [pack, ids] of byPack) {
    const size = sizes.get(pack);
    if (size === undefined)
      throw new EngineError('corrupt', `pack ${pack.slice(0, 12)} is missing from the repository`);
    const header: PackEntry[] = await fetchPackHeader(repo.storage, repo.key.encryption, pack, size);
    for (const entry of header)
      if (ids.delete(entry.id)) {
        newRawBytes += entry.rawLength;
        newStoredBytes += entry.length;
      }
    if (ids.size > 0)
      throw new EngineError('corrupt', `pack ${pack.slice(0, 12)} does not hold the blobs its index lists in it`);
  }
  return {
    snapshot: snapshot.id,
    previous: previous?.id ?? null,
    bytes,
    newBlobs: fresh.length,
    newRawBytes,
    newStoredBytes,
  };
}

/** Adds the data blobs of an entry (and of everything under it) to `into`. */
async function collectContent(repo: Repository, node: { content?: string[]; subtree?: string }, into: Set<string>) {
  for (const id of node.content ?? []) into.add(id);
  if (node.subtree)
    for (const child of (await repo.readTree(node.subtree)).nodes) await collectContent(repo, child, into);
}
