// Copy: snapshots with their data from one repository into another. Two repositories have different master keys,
// so a blob's id (a keyed hash of its plaintext) differs between them: every blob is read, checked and decrypted
// under the first key, and sealed again under the second, and every tree is rewritten to name the new ids. The
// chunks keep the first repository's boundaries, so a copy deduplicates with earlier copies from the same
// repository, not with the second repository's own backups. Each copy records the id it was copied from
// (`original`): a copy run again, after it was killed or when there is nothing new, skips what is there, and its
// blobs are found in the second repository's index (packs a killed copy wrote unindexed are adopted first), so no
// blob is uploaded twice.
import { adoptOrphanPacks } from '../backup/adopt-orphan-packs';
import { EngineError } from '../errors';
import { KNOWN_FEATURES } from '../repository/config';
import { BlobWriter } from '../repository/blob-writer';
import type { HeldLock } from '../repository/lock';
import type { Repository } from '../repository/repository';
import type { Snapshot, SnapshotRecord } from '../repository/snapshot';
import { encodeTree, type TreeNode } from '../repository/tree';

export interface CopyOptions {
  /** Only snapshots of this source key. */
  source?: string;
  /** Only these snapshots (ids or unique prefixes); all by default. */
  ids?: string[];
  /** Called after each snapshot is copied or found copied already. */
  onSnapshot?: (entry: CopiedSnapshot) => void;
  signal?: AbortSignal;
  lockWaitMs?: number;
}

export interface CopiedSnapshot {
  /** The snapshot's id in the repository copied from. */
  from: string;
  /** Its copy's id in the repository copied to. */
  to: string;
  source: string;
  time: string;
  /** False when a copy was there already. */
  copied: boolean;
}

export interface CopyResult {
  snapshots: CopiedSnapshot[];
  newBlobs: number;
  newBytes: number;
}

export async function runCopy(from: Repository, to: Repository, options: CopyOptions = {}): Promise<CopyResult> {
  if (from.config.id === to.config.id)
    throw new EngineError('invalid-argument', 'a repository cannot be copied into itself');
  const waitMs = options.lockWaitMs ?? 10 * 60_000;
  const reading = await from.lock({ exclusive: false, operation: 'copy', waitMs, signal: options.signal });
  let writing: HeldLock | null = null;
  try {
    writing = await to.lock({ exclusive: false, operation: 'copy', waitMs, signal: options.signal });
    await from.loadIndex();
    await to.loadIndex();
    await adoptOrphanPacks(to, writing);
    const chosen = await chooseSnapshots(from, options);
    // What the repository copied to holds already, by the id it was copied from.
    const present = new Map<string, string>();
    for (const s of await to.listSnapshots()) if (s.original) present.set(s.original, s.id);
    for (const feature of from.config.features ?? [])
      if (KNOWN_FEATURES.includes(feature)) await to.enableFeature(feature);
    const copier = new TreeCopier(from, to, new BlobWriter(to, writing), options.signal);
    const result: CopyResult = { snapshots: [], newBlobs: 0, newBytes: 0 };
    for (const snapshot of chosen) {
      const done = present.get(snapshot.id);
      if (done) {
        record(result, options, {
          from: snapshot.id,
          to: done,
          source: snapshot.source,
          time: snapshot.time,
          copied: false,
        });
        continue;
      }
      reading.assertFresh();
      const tree = await copier.tree(snapshot.tree);
      // Every blob the snapshot names is in an indexed pack before the snapshot is written.
      const stats = await copier.writer.finish();
      result.newBlobs += stats.newBlobs;
      result.newBytes += stats.newBytes;
      copier.writer = new BlobWriter(to, writing);
      const { id: _id, ...fields } = snapshot;
      const parent = snapshot.parent ? present.get(snapshot.parent) : undefined;
      const copy: Snapshot = { ...fields, tree, original: snapshot.id, ...(parent ? { parent } : {}) };
      if (!parent) delete copy.parent;
      const lock = writing;
      const id = await lock.writeUnder(
        'snapshot-checked',
        () => to.saveSnapshot(copy, lock.name),
        (written) => to.storage.delete(`snapshots/${written}`),
      );
      present.set(snapshot.id, id);
      record(result, options, {
        from: snapshot.id,
        to: id,
        source: snapshot.source,
        time: snapshot.time,
        copied: true,
      });
    }
    return result;
  } finally {
    await writing?.release();
    await reading.release();
  }
}

function record(result: CopyResult, options: CopyOptions, entry: CopiedSnapshot): void {
  result.snapshots.push(entry);
  options.onSnapshot?.(entry);
}

async function chooseSnapshots(from: Repository, options: CopyOptions): Promise<SnapshotRecord[]> {
  if (options.ids && options.ids.length > 0) {
    // Every id is resolved before anything is copied: a typo copies nothing.
    const named = new Map<string, SnapshotRecord>();
    for (const ref of options.ids) {
      const s = await from.resolveSnapshot(ref, { source: options.source });
      named.set(s.id, s);
    }
    return [...named.values()].sort(byTime);
  }
  return (await from.listSnapshots()).filter((s) => !options.source || s.source === options.source).sort(byTime);
}

function byTime(a: SnapshotRecord, b: SnapshotRecord): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1;
}

/** Rewrites trees bottom-up, remembering each blob it has copied: a blob shared by files or snapshots is read once
 *  per run. */
class TreeCopier {
  private readonly ids = new Map<string, string>();

  constructor(
    private readonly from: Repository,
    private readonly to: Repository,
    public writer: BlobWriter,
    private readonly signal?: AbortSignal,
  ) {}

  async tree(id: string): Promise<string> {
    const known = this.ids.get(id);
    if (known) return known;
    const tree = await this.from.readTree(id);
    const nodes: TreeNode[] = [];
    for (const node of tree.nodes) {
      this.signal?.throwIfAborted();
      const copied: TreeNode = { ...node };
      if (node.content) {
        copied.content = [];
        for (const blob of node.content) copied.content.push(await this.data(blob));
      }
      if (node.subtree) copied.subtree = await this.tree(node.subtree);
      nodes.push(copied);
    }
    const bytes = encodeTree({ nodes });
    const newId = this.to.blobId(bytes);
    await this.writer.save('tree', newId, bytes);
    this.ids.set(id, newId);
    return newId;
  }

  private async data(id: string): Promise<string> {
    const known = this.ids.get(id);
    if (known) return known;
    // Read under the first key: the blob is checked against its id on the way.
    const plaintext = await this.from.readBlob(id);
    const newId = this.to.blobId(plaintext);
    await this.writer.save('data', newId, plaintext);
    this.ids.set(id, newId);
    return newId;
  }
}
