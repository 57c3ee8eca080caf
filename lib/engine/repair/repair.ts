// Repairs for a damaged repository, as restic has them: rebuild the index from the packs' own headers, and drop
// from the snapshots what cannot be read while keeping the rest. Each takes the repository alone and says what it
// did; `dryRun` says what it would do and changes nothing.
import { displayPath } from '../byte-names';
import { throwIfAborted } from '../errors';
import { ProgressMeter, type EventSink } from '../progress';
import { BlobWriter } from '../repository/blob-writer';
import type { IndexedPack } from '../repository/index-file';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import { encodeTree, type TreeNode } from '../repository/tree';

export interface RepairOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

export interface RepairIndexResult {
  packs: number;
  blobs: number;
  /** Packs whose header cannot be read: left in storage (their data may still be read by hand), not indexed. */
  unreadablePacks: string[];
  /** Index files the new one replaces, damaged ones among them. */
  replacedIndexFiles: number;
}

/** Writes one index of every pack whose header can be read, replacing every index file there was. */
export async function repairIndex(repo: Repository, options: RepairOptions = {}): Promise<RepairIndexResult> {
  const meter = new ProgressMeter('repair', options.onEvent);
  const lock = await repo.lock({ exclusive: true, operation: 'repair index', signal: options.signal });
  try {
    const stored = await repo.storage.list('data');
    meter.filesTotal = stored.length;
    const packs: IndexedPack[] = [];
    const unreadablePacks: string[] = [];
    for (const { name, size } of stored) {
      throwIfAborted(options.signal);
      try {
        packs.push(await repo.readPackHeader(name, size));
      } catch (err) {
        unreadablePacks.push(name);
        meter.warn(`data/${name}`, `its header cannot be read, so it is not indexed: ${(err as Error).message}`);
      }
      meter.filesDone++;
      meter.tick();
    }
    const old = (await repo.storage.list('index')).map((o) => o.name);
    if (!options.dryRun) {
      await repo.writeIndexInParts(packs, old, (part, supersedes) =>
        lock.writeUnder(
          'index-checked',
          () => repo.writeIndex(part, supersedes, lock.name),
          (id) => repo.deleteIndexFile(id),
        ),
      );
      for (const id of old) {
        lock.assertFresh();
        await repo.storage.delete(`index/${id}`);
      }
      await repo.reloadIndex();
    }
    return {
      packs: packs.length,
      blobs: packs.reduce((n, p) => n + p.blobs.length, 0),
      unreadablePacks,
      replacedIndexFiles: old.length,
    };
  } finally {
    await lock.release();
  }
}

export interface RepairSnapshotsResult {
  /** Snapshot files that cannot be read at all: removed. */
  removed: string[];
  /** Snapshots that reference what cannot be read: saved again without it (tagged `repaired`), the old one removed. */
  rewritten: { id: string; newId: string | null; dropped: string[] }[];
}

/** Removes the snapshots that cannot be read, and saves again, without the parts that cannot be read, those whose
 *  files or directories lost data: a file with a blob that is gone is left out, a directory whose listing cannot
 *  be read is kept empty. The rest of every snapshot stays as it was. */
export async function repairSnapshots(repo: Repository, options: RepairOptions = {}): Promise<RepairSnapshotsResult> {
  const meter = new ProgressMeter('repair', options.onEvent);
  const lock = await repo.lock({ exclusive: true, operation: 'repair snapshots', signal: options.signal });
  try {
    await repo.reloadIndex();
    const stored = new Set((await repo.storage.list('data')).map((o) => o.name));
    const snapshots = await repo.listSnapshots();
    const result: RepairSnapshotsResult = {
      removed: [...repo.damaged.keys()].filter((n) => n.startsWith('snapshots/')).map((n) => n.slice(10)),
      rewritten: [],
    };
    const usable = (id: string) => {
      const at = repo.index.get(id);
      return at !== undefined && stored.has(at.pack);
    };
    const writer = options.dryRun ? null : new BlobWriter(repo, lock);
    const repaired: { snapshot: SnapshotRecord; root: string; entry: RepairSnapshotsResult['rewritten'][number] }[] =
      [];
    for (const snapshot of snapshots) {
      throwIfAborted(options.signal);
      const dropped: string[] = [];
      const root = await repairTree(repo, snapshot.tree, '/', usable, dropped, writer);
      if (dropped.length === 0) continue;
      for (const what of dropped) meter.warn(`snapshots/${snapshot.id}`, what);
      const entry = { id: snapshot.id, newId: null, dropped };
      result.rewritten.push(entry);
      repaired.push({ snapshot, root, entry });
    }
    if (!writer) return result;
    // The new trees are in indexed packs before any snapshot names them.
    await writer.finish();
    for (const { snapshot, root, entry } of repaired) {
      entry.newId = await lock.writeUnder(
        'snapshot-checked',
        () => repo.saveSnapshot(repairedCopy(snapshot, root, entry.dropped), lock.name),
        (id) => repo.storage.delete(`snapshots/${id}`),
      );
      lock.assertFresh();
      await repo.storage.delete(`snapshots/${snapshot.id}`);
    }
    for (const id of result.removed) {
      lock.assertFresh();
      await repo.storage.delete(`snapshots/${id}`);
    }
    return result;
  } finally {
    await lock.release();
  }
}

function repairedCopy(snapshot: SnapshotRecord, tree: string, dropped: string[]) {
  const { id: _id, ...rest } = snapshot;
  return {
    ...rest,
    tree,
    tags: [...new Set([...rest.tags, 'repaired'])],
    warnings: [...rest.warnings, ...dropped.map((d) => `repaired: ${d}`)],
  };
}

/** The id of a tree like `treeId` without what cannot be read; records each thing left out in `dropped`. New
 *  trees are saved through `writer` (none: only worked out, for a dry run or once they are saved). */
async function repairTree(
  repo: Repository,
  treeId: string,
  at: string,
  usable: (id: string) => boolean,
  dropped: string[],
  writer: BlobWriter | null,
): Promise<string> {
  const nodes: TreeNode[] = [];
  let changed = false;
  let tree;
  try {
    if (!usable(treeId)) throw new Error('its tree is missing');
    tree = await repo.readTree(treeId);
  } catch (err) {
    dropped.push(`${displayPath(at)}: the directory's listing cannot be read (${(err as Error).message}); kept empty`);
    tree = { nodes: [] };
    changed = true;
  }
  for (const node of tree.nodes) {
    const p = at === '/' ? `/${node.name}` : `${at}/${node.name}`;
    if (node.type === 'file' && !(node.content ?? []).every(usable)) {
      dropped.push(`${displayPath(p)}: part of its content is gone; left out`);
      changed = true;
      continue;
    }
    if (node.type === 'dir' && node.subtree) {
      const subtree = await repairTree(repo, node.subtree, p, usable, dropped, writer);
      if (subtree !== node.subtree) changed = true;
      nodes.push({ ...node, subtree });
    } else nodes.push(node);
  }
  if (!changed) return treeId;
  const bytes = encodeTree({ nodes });
  const id = repo.blobId(bytes);
  if (writer && !writer.has(id)) await writer.save('tree', id, bytes);
  return id;
}
