// What a repository holds and what it costs: its stored size, and for each source the content its snapshots
// name, the distinct data behind it and what that takes as stored. Deduplication is the content the snapshots
// name over the distinct data; compression is the distinct data over what it takes as stored (the index's
// lengths, which the pack headers vouch for: verify checks that they agree).
import type { Repository } from '../repository/repository';

export interface SourceStats {
  source: string;
  snapshots: number;
  /** Content of the newest snapshot. */
  latestBytes: number;
  /** Content of all its snapshots, counted in each. */
  logicalBytes: number;
  /** Distinct data blobs its snapshots reference: plaintext, and as stored. */
  rawBytes: number;
  storedBytes: number;
  /** Stored bytes of the blobs no other source references: what forgetting the source would free. */
  exclusiveStoredBytes: number;
}

export interface RepositoryStats {
  snapshots: number;
  packs: number;
  /** Every pack's size: what the repository's data takes, referenced or not (prune frees the rest). */
  packBytes: number;
  logicalBytes: number;
  rawBytes: number;
  storedBytes: number;
  /** logicalBytes over rawBytes, and rawBytes over storedBytes: 1 for an empty repository. */
  dedupRatio: number;
  compressionRatio: number;
  sources: SourceStats[];
}

/** A blob referenced by more than one source. */
const SHARED = -1;

export async function repositoryStats(repo: Repository): Promise<RepositoryStats> {
  await repo.loadIndex();
  const snapshots = await repo.listSnapshots();
  const packs = await repo.storage.list('data');
  const names = [...new Set(snapshots.map((s) => s.source))].sort();
  // Which source references each blob, or SHARED: one map for all sources, not a set each.
  const owner = new Map<string, number>();
  const treeSizes = new Map<string, number>();
  const sources: SourceStats[] = [];
  for (const [n, source] of names.entries()) {
    const own = snapshots.filter((s) => s.source === source);
    const stats: SourceStats = {
      source,
      snapshots: own.length,
      latestBytes: 0,
      logicalBytes: 0,
      rawBytes: 0,
      storedBytes: 0,
      exclusiveStoredBytes: 0,
    };
    const seenTrees = new Set<string>();
    const seenBlobs = new Set<string>();
    for (const snapshot of own) {
      const bytes = await contentBytes(repo, snapshot.tree, treeSizes);
      stats.logicalBytes += bytes;
      stats.latestBytes = bytes;
      await eachBlob(repo, snapshot.tree, seenTrees, (id) => {
        if (seenBlobs.has(id)) return;
        seenBlobs.add(id);
        const at = repo.index.get(id);
        if (at) {
          stats.rawBytes += at.rawLength;
          stats.storedBytes += at.length;
        }
        const was = owner.get(id);
        owner.set(id, was === undefined || was === n ? n : SHARED);
      });
    }
    sources.push(stats);
  }
  let rawBytes = 0;
  let storedBytes = 0;
  for (const [id, n] of owner) {
    const at = repo.index.get(id);
    if (!at) continue;
    rawBytes += at.rawLength;
    storedBytes += at.length;
    if (n !== SHARED) sources[n].exclusiveStoredBytes += at.length;
  }
  const logicalBytes = sources.reduce((sum, s) => sum + s.logicalBytes, 0);
  return {
    snapshots: snapshots.length,
    packs: packs.length,
    packBytes: packs.reduce((sum, p) => sum + p.size, 0),
    logicalBytes,
    rawBytes,
    storedBytes,
    dedupRatio: rawBytes > 0 ? logicalBytes / rawBytes : 1,
    compressionRatio: storedBytes > 0 ? rawBytes / storedBytes : 1,
    sources,
  };
}

/** The file content bytes under a tree; a subtree met before (in this snapshot or another) is not read again. */
export async function contentBytes(repo: Repository, treeId: string, known: Map<string, number>): Promise<number> {
  const seen = known.get(treeId);
  if (seen !== undefined) return seen;
  let total = 0;
  for (const node of (await repo.readTree(treeId)).nodes) {
    if (node.type === 'file') total += node.size ?? 0;
    if (node.subtree) total += await contentBytes(repo, node.subtree, known);
  }
  known.set(treeId, total);
  return total;
}

/** Calls `visit` with each data blob under a tree, skipping the subtrees in `seenTrees` (and adding the rest). */
async function eachBlob(
  repo: Repository,
  treeId: string,
  seenTrees: Set<string>,
  visit: (id: string) => void,
): Promise<void> {
  const pending = [treeId];
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (seenTrees.has(id)) continue;
    seenTrees.add(id);
    for (const node of (await repo.readTree(id)).nodes) {
      for (const blob of node.content ?? []) visit(blob);
      if (node.subtree) pending.push(node.subtree);
    }
  }
}
