// Prune: remove data no snapshot needs. Marking and repacking run beside backups under a shared lock; only
// the final sweep (re-check against snapshots added meanwhile, write one new index, delete) takes the
// repository alone, and only for a moment.
import { EngineError, throwIfAborted } from '../errors';
import { ProgressMeter, type EventSink } from '../progress';
import { decodeBlob } from '../repository/blob-codec';
import { BlobWriter } from '../repository/blob-writer';
import type { IndexedPack } from '../repository/index-file';
import type { Repository } from '../repository/repository';
import { retainedAmong } from './object-lock';
import { collectReferences, type References } from '../verify/collect-references';

/** A pack with more unused bytes than this share is repacked; one with none used is deleted. */
const REPACK_UNUSED_SHARE = 0.1;
const SWEEP_LOCK_WAIT_MS = 30 * 60_000;

export interface PruneOptions {
  signal?: AbortSignal;
  onEvent?: EventSink;
  /** Called between the mark and sweep phases; tests use it to run a backup in between. */
  beforeSweep?: () => Promise<void>;
}

export interface PruneResult {
  packsDeleted: number;
  packsRepacked: number;
  packsWritten: number;
  bytesDeleted: number;
  bytesWritten: number;
  blobsRemoved: number;
  /** Packs the index listed that storage has not got: their entries are left out of the new index, and each is
   *  reported (a warning), since the snapshots that need their blobs are damaged (run verify). */
  missingPacks: string[];
  /** Unused packs kept because the bucket retains them (object lock): how many, their bytes, the latest date. */
  retained: { packs: number; bytes: number; until: string | null };
}

export async function runPrune(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  const meter = new ProgressMeter('prune', options.onEvent);
  const result: PruneResult = {
    packsDeleted: 0,
    packsRepacked: 0,
    packsWritten: 0,
    bytesDeleted: 0,
    bytesWritten: 0,
    blobsRemoved: 0,
    missingPacks: [],
    retained: { packs: 0, bytes: 0, until: null },
  };
  const candidates = new Set<string>();
  let marked: References;
  let seenSnapshots: Set<string>;

  const onIgnored = (name: string, why: string) => meter.warn(`locks/${name}`, `a lock file was passed over: ${why}`);
  const mark = await repo.lock({ exclusive: false, solo: true, operation: 'prune', signal: options.signal, onIgnored });
  try {
    meter.phase('mark');
    repo.keepPackEntries();
    await repo.reloadIndex();
    const snapshots = await repo.listSnapshots();
    refuseDamage(repo);
    seenSnapshots = new Set(snapshots.map((s) => s.id));
    marked = await referencesOrFail(
      repo,
      snapshots.map((s) => s.tree),
    );
    const used = (id: string) => marked.trees.has(id) || marked.data.has(id);
    const toRepack: string[] = [];
    const present = new Set((await repo.storage.list('data')).map((p) => p.name));
    for (const packId of repo.index.packIds()) {
      if (!present.has(packId)) continue; // reported in the sweep
      const blobs = repo.index.packEntries(packId)!;
      const total = blobs.reduce((n, b) => n + b.length, 0);
      const unused = blobs.filter((b) => !used(b.id)).reduce((n, b) => n + b.length, 0);
      if (unused === total) candidates.add(packId);
      else if (unused / total > REPACK_UNUSED_SHARE) {
        candidates.add(packId);
        toRepack.push(packId);
      }
    }
    // Packs the bucket still retains (object lock) are kept as they are, neither deleted nor repacked: a delete
    // would only hide them, and free nothing, until their retention ends.
    const sizes = new Map((await repo.storage.list('data')).map((p) => [p.name, p.size]));
    for (const [name, until] of await retainedAmong(
      repo.storage,
      [...candidates].map((p) => `data/${p}`),
    )) {
      const packId = name.slice('data/'.length);
      candidates.delete(packId);
      if (toRepack.includes(packId)) toRepack.splice(toRepack.indexOf(packId), 1);
      result.retained.packs++;
      result.retained.bytes += sizes.get(packId) ?? 0;
      if (!result.retained.until || until > Date.parse(result.retained.until))
        result.retained.until = new Date(until).toISOString();
    }
    meter.phase('repack');
    const writer = new BlobWriter(repo);
    for (const packId of toRepack) {
      throwIfAborted(options.signal);
      const bytes = await repo.storage.get(`data/${packId}`);
      for (const b of repo.index.packEntries(packId)!) {
        if (!used(b.id)) continue;
        const sealed = bytes.subarray(b.offset, b.offset + b.length);
        decodeBlob(repo.key, sealed, b.id); // a damaged blob must not be carried into a new pack
        await writer.copySealed(b.type, b.id, Buffer.from(sealed), b.rawLength);
      }
      result.packsRepacked++;
    }
    const written = await writer.finish();
    result.packsWritten = written.packs;
    result.bytesWritten = written.newBytes;
  } finally {
    await mark.release();
  }

  await options.beforeSweep?.();
  const sweep = await repo.lock({
    exclusive: true,
    operation: 'prune',
    waitMs: SWEEP_LOCK_WAIT_MS,
    signal: options.signal,
    onIgnored,
  });
  try {
    meter.phase('sweep');
    await repo.reloadIndex();
    // Snapshots written while marking keep what they use, even if it sat in a pack marked for deletion.
    const added = (await repo.listSnapshots()).filter((s) => !seenSnapshots.has(s.id));
    refuseDamage(repo);
    marked = await referencesOrFail(
      repo,
      added.map((s) => s.tree),
      marked,
    );
    const used = (id: string) => marked.trees.has(id) || marked.data.has(id);
    const stored = new Map((await repo.storage.list('data')).map((p) => [p.name, p.size]));
    const keptPacks: IndexedPack[] = [];
    const holders = new Map<string, number>();
    for (const packId of repo.index.packIds()) {
      for (const b of repo.index.packEntries(packId)!) holders.set(b.id, (holders.get(b.id) ?? 0) + 1);
    }
    const deletions: string[] = [];
    for (const packId of repo.index.packIds()) {
      const blobs = repo.index.packEntries(packId)!;
      const deletable =
        candidates.has(packId) && stored.has(packId) && blobs.every((b) => !used(b.id) || (holders.get(b.id) ?? 0) > 1);
      if (deletable) {
        deletions.push(packId);
        for (const b of blobs) holders.set(b.id, holders.get(b.id)! - 1);
      } else if (stored.has(packId)) keptPacks.push({ id: packId, blobs });
      else {
        result.missingPacks.push(packId);
        meter.warn(
          `data/${packId}`,
          `the index lists this pack (${blobs.length} blobs) but storage has not got it: its entries are left out of the new index, and snapshots that need them are damaged (run verify)`,
        );
      }
    }
    // The index says what a pack holds, but a pack's own header has the last word: a forged or damaged index
    // could say that a live pack is empty, or that a kept pack holds what it does not. So a pack is deleted only
    // if every blob in use that its header lists is also in the header of a pack that stays.
    const headers = new Map<string, Promise<IndexedPack | null>>();
    const headerOf = (packId: string) => {
      if (!headers.has(packId))
        headers.set(
          packId,
          repo.readPackHeader(packId, stored.get(packId)!).catch(() => null),
        );
      return headers.get(packId)!;
    };
    const keptHolders = new Map<string, string[]>();
    const keep = (pack: IndexedPack) => {
      keptPacks.push(pack);
      for (const b of pack.blobs) keptHolders.set(b.id, [...(keptHolders.get(b.id) ?? []), pack.id]);
    };
    for (const pack of keptPacks.splice(0)) keep(pack);
    const heldElsewhere = async (blob: string) => {
      for (const packId of keptHolders.get(blob) ?? [])
        if ((await headerOf(packId))?.blobs.some((b) => b.id === blob)) return true;
      return false;
    };
    for (const packId of [...deletions]) {
      const header = await headerOf(packId);
      let missing = 0;
      for (const b of header?.blobs ?? []) if (used(b.id) && !(await heldElsewhere(b.id))) missing++;
      if (header && missing === 0) continue;
      deletions.splice(deletions.indexOf(packId), 1);
      keep(header ?? { id: packId, blobs: repo.index.packEntries(packId)! });
      meter.warn(
        `data/${packId}`,
        header
          ? `kept: its header lists ${missing} blob(s) in use that no other pack holds, though the index said otherwise (a forged or damaged index)`
          : 'kept: its header cannot be read, so what it holds cannot be known (run verify)',
      );
    }
    // Packs no index lists were left by an interrupted backup: keep those whose data is needed, drop the rest.
    for (const [packId, size] of stored) {
      if (repo.index.hasPack(packId)) continue;
      const pack = await repo.readPackHeader(packId, size).catch(() => null);
      if (pack?.blobs.some((b) => used(b.id))) keptPacks.push(pack);
      else deletions.push(packId);
    }
    // A prune that stalled until its lock was judged stale may no longer have the repository alone: delete nothing.
    const superseded = repo.indexFileIds();
    await repo.writeIndexInParts(keptPacks, superseded, (part, supersedes) =>
      sweep.writeUnder(
        'index-checked',
        () => repo.writeIndex(part, supersedes, sweep.name),
        (id) => repo.deleteIndexFile(id),
      ),
    );
    for (const id of superseded) {
      sweep.assertFresh();
      await repo.storage.delete(`index/${id}`);
      repo.forgetIndexFile(id);
    }
    for (const packId of deletions) {
      result.blobsRemoved += repo.index.packEntries(packId)?.length ?? 0;
      result.bytesDeleted += stored.get(packId) ?? 0;
      sweep.assertFresh();
      await repo.storage.delete(`data/${packId}`);
      result.packsDeleted++;
    }
    await repo.reloadIndex();
    return result;
  } finally {
    await sweep.release();
  }
}

/** A damaged snapshot may need any pack, and a damaged index file may be the only list of some: prune cannot tell
 *  what is unused until they are repaired. */
function refuseDamage(repo: Repository): void {
  if (repo.damaged.size === 0) return;
  const names = [...repo.damaged.keys()];
  throw new EngineError(
    'corrupt',
    `prune refuses to run while ${names.length === 1 ? 'an index file or snapshot cannot' : `${names.length} index files or snapshots cannot`} be read (${names.map((n) => n.slice(0, n.indexOf('/') + 13)).join(', ')}): it cannot tell what they need. Run "lifeline repair index" or "lifeline repair snapshots" first`,
  );
}

async function referencesOrFail(repo: Repository, roots: string[], into?: References): Promise<References> {
  const refs = await collectReferences(
    repo,
    roots,
    (id) => (repo.index.has(id) ? null : `blob ${id.slice(0, 12)} is missing`),
    into,
  );
  if (refs.errors.length > 0) {
    throw new EngineError(
      'corrupt',
      `prune stopped: the repository is damaged (${refs.errors[0]}${refs.errors.length > 1 ? ` and ${refs.errors.length - 1} more` : ''}); run verify`,
    );
  }
  return refs;
}
