// Verify: the structure (every pack the index names exists and its own header says what the index says of it,
// every blob a snapshot needs is indexed) and, with readData, the data itself (each pack hashes to its name,
// each blob decrypts and matches its id).
import { createHash, randomInt } from 'node:crypto';

import { isEngineError, throwIfAborted } from '../errors';
import { ProgressMeter, type EventSink } from '../progress';
import { decodeBlob } from '../repository/blob-codec';
import { readPackHeader, sameEntries, type PackEntry } from '../repository/pack';
import { type ReaderLockOptions, underReaderLock } from '../repository/lock';
import type { Repository } from '../repository/repository';
import { collectReferences } from './collect-references';

/** Which packs' data a verify reads: a random share, the n-th of `of` fixed groups (so that `of` runs read every
 *  pack once), or random packs up to a number of bytes. */
export type ReadDataSubset = { percent: number } | { group: number; of: number } | { bytes: number };

export interface VerifyOptions extends ReaderLockOptions {
  /** Percentage of packs (0–100) whose data is read and checked; 0 checks structure only. */
  readDataPercent?: number;
  /** Instead of readDataPercent: which packs to read. */
  readDataSubset?: ReadDataSubset;
  onEvent?: EventSink;
}

export interface VerifyResult {
  snapshots: number;
  packs: number;
  blobs: number;
  packsRead: number;
  /** Packs in storage no index lists: left by an interrupted backup, harmless, removed by prune. */
  unindexedPacks: number;
  errors: string[];
  /** Snapshots whose every referenced blob is present. */
  goodSnapshots: string[];
}

/** Verifies under a shared lock on the repository (lock.ts, `underReaderLock`): a prune that starts meanwhile
 *  deletes nothing until it is done, so what it removes is never reported as damage. */
export function runVerify(repo: Repository, options: VerifyOptions = {}): Promise<VerifyResult> {
  return underReaderLock(
    (o) => repo.lock(o),
    'verify',
    options,
    () => verifyLocked(repo, options),
  );
}

async function verifyLocked(repo: Repository, options: VerifyOptions): Promise<VerifyResult> {
  const meter = new ProgressMeter('verify', options.onEvent);
  repo.keepPackEntries();
  await repo.loadIndex();
  const errors: string[] = [];
  const stored = new Map((await repo.storage.list('data')).map((p) => [p.name, p.size]));
  const indexed = repo.index.packIds();
  for (const pack of indexed)
    if (!stored.has(pack)) errors.push(`pack ${pack.slice(0, 12)} is in the index but missing from storage`);

  meter.phase('structure');
  // A restore finds each blob where the index says: an index that disagrees with a pack's own header (a blob at
  // another offset, of another length, or not there at all) would pass every other check and fail the restore.
  const blobsOf = new Map<string, string[]>();
  for (const id of repo.index.blobIds()) {
    const at = repo.index.get(id)!;
    const list = blobsOf.get(at.pack);
    if (list) list.push(id);
    else blobsOf.set(at.pack, [id]);
  }
  for (const pack of indexed) {
    throwIfAborted(options.signal);
    const size = stored.get(pack);
    if (size !== undefined) errors.push(...(await checkIndexAgainstHeader(repo, pack, size, blobsOf.get(pack) ?? [])));
  }
  const snapshots = await repo.listSnapshots();
  // Named one by one; everything else is still checked.
  for (const [name, why] of repo.damaged) errors.push(`${name} cannot be read: ${why}`);
  const goodSnapshots: string[] = [];
  for (const snapshot of snapshots) {
    throwIfAborted(options.signal);
    const problems = await collectReferences(repo, [snapshot.tree], (id) => {
      const at = repo.index.get(id);
      if (!at) return `blob ${id.slice(0, 12)} is missing from the index`;
      if (!stored.has(at.pack)) return `blob ${id.slice(0, 12)} is in missing pack ${at.pack.slice(0, 12)}`;
      return null;
    });
    for (const p of problems.errors) errors.push(`snapshot ${snapshot.id.slice(0, 8)}: ${p}`);
    if (problems.errors.length === 0) goodSnapshots.push(snapshot.id);
  }

  const toRead = packsToRead(
    indexed.filter((p) => stored.has(p)),
    stored,
    options.readDataSubset ?? { percent: options.readDataPercent ?? 0 },
  );
  meter.phase('read-data');
  meter.filesTotal = toRead.length;
  meter.bytesTotal = toRead.reduce((sum, p) => sum + (stored.get(p) ?? 0), 0);
  for (const pack of toRead) {
    throwIfAborted(options.signal);
    meter.currentPath = pack;
    errors.push(...(await checkPack(repo, pack)));
    meter.filesDone++;
    meter.bytesDone += stored.get(pack) ?? 0;
    meter.tick();
  }
  meter.tick(true);
  return {
    snapshots: snapshots.length,
    packs: indexed.length,
    blobs: repo.index.blobCount,
    packsRead: toRead.length,
    unindexedPacks: [...stored.keys()].filter((p) => !repo.index.hasPack(p)).length,
    errors,
    goodSnapshots,
  };
}

function packsToRead(packs: string[], sizes: Map<string, number>, subset: ReadDataSubset): string[] {
  if ('group' in subset)
    return packs.filter((p) => Number.parseInt(p.slice(0, 8), 16) % subset.of === subset.group - 1);
  if ('bytes' in subset) {
    const shuffled = packs.map((p) => ({ p, key: randomInt(2 ** 47) })).sort((a, b) => a.key - b.key);
    const picked: string[] = [];
    let total = 0;
    for (const { p } of shuffled) {
      if (total >= subset.bytes) break;
      picked.push(p);
      total += sizes.get(p) ?? 0;
    }
    return picked;
  }
  const percent = Math.max(0, Math.min(100, subset.percent));
  return packs.filter(() => percent >= 100 || (percent > 0 && randomInt(10_000) < percent * 100));
}

/** Compares what the index says of a pack with the pack's own header: every blob the index finds in it must be
 *  there, at the same offset, of the same type and lengths, and the index's entries for it must be the header's. */
async function checkIndexAgainstHeader(
  repo: Repository,
  packId: string,
  size: number,
  blobs: string[],
): Promise<string[]> {
  const name = `pack ${packId.slice(0, 12)}`;
  let header: PackEntry[];
  try {
    header = (await repo.readPackHeader(packId, size)).blobs;
  } catch (err) {
    return [`${name}: its header cannot be read (${(err as Error).message})`];
  }
  const byId = new Map(header.map((e) => [e.id, e]));
  const errors: string[] = [];
  for (const id of blobs) {
    const at = repo.index.get(id)!;
    const own = byId.get(id);
    if (!own) errors.push(`${name}: the index places blob ${id.slice(0, 12)} in it, but its header does not list it`);
    else if (
      own.offset !== at.offset ||
      own.length !== at.length ||
      own.type !== at.type ||
      own.rawLength !== at.rawLength
    )
      errors.push(
        `${name}: the index places blob ${id.slice(0, 12)} at offset ${at.offset} (${at.length} bytes), its header at offset ${own.offset} (${own.length} bytes)`,
      );
  }
  const listed = repo.index.packEntries(packId);
  if (errors.length === 0 && listed && !sameEntries(header, listed))
    errors.push(`${name}: the index's list of its blobs is not its header's`);
  return errors;
}

async function checkPack(repo: Repository, packId: string): Promise<string[]> {
  const name = `pack ${packId.slice(0, 12)}`;
  let bytes: Buffer;
  try {
    bytes = await repo.storage.get(`data/${packId}`);
  } catch (err) {
    return [`${name} cannot be read: ${(err as Error).message}`];
  }
  if (createHash('sha256').update(bytes).digest('hex') !== packId)
    return [`${name} is damaged: its bytes no longer hash to its name`];
  const errors: string[] = [];
  try {
    const entries = readPackHeader(repo.key.encryption, bytes, bytes.length, packId);
    for (const e of entries) {
      try {
        decodeBlob(repo.key, bytes.subarray(e.offset, e.offset + e.length), e.id);
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    if (!isEngineError(err)) throw err;
    errors.push(`${name}: ${err.message}`);
  }
  return errors;
}
