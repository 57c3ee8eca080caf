// A repository in an S3 bucket with object lock: the bucket keeps every version of every object for R days after
// it is written (its default retention), whatever credentials later delete or overwrite. Three steps build on it:
// - `extendObjectLock`: the maintenance step that keeps what young snapshots use retained for R more days, so that
//   a pack written long ago and still used today cannot be deleted either;
// - `retainedAmong`: forget and prune ask it before deleting, keep what is retained, and say so;
// - `undelete`: after damage (deletes, overwrites), makes the repository what it was at a time T again, from the
//   versions the bucket kept.
import { EngineError, isEngineError } from '../errors';
import type { Repository } from '../repository/repository';
import type { ObjectVersion, S3Storage } from '../repository/s3-storage';
import { isRetaining, type Storage } from '../repository/storage';
import { collectReferences } from '../verify/collect-references';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Of the named objects, those the storage still retains, with until when (ms); empty without object lock. */
export async function retainedAmong(storage: Storage, names: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!isRetaining(storage) || !(await storage.objectLock())) return out;
  for (const name of names) {
    const until = await storage.retainedUntil(name);
    if (until !== null) out.set(name, until);
  }
  return out;
}

export interface ExtendResult {
  days: number;
  /** Snapshots younger than the retention, whose objects were looked at. */
  snapshots: number;
  objects: number;
  extended: number;
  /** Objects that were gone when their retention was to be extended (run verify; repair undelete brings them
   *  back). */
  missing: string[];
  until: string;
  /** Why the packs young snapshots use could not be told apart, so that every pack was extended; null if they
   *  could. */
  incomplete: string | null;
}

/** Extends the retention of every object a snapshot younger than the bucket's retention uses (its packs, every
 *  index file, the keys, the config, and the snapshot itself) to now + that retention; of every pack when a
 *  snapshot's trees cannot be read. */
export async function extendObjectLock(repo: Repository): Promise<ExtendResult> {
  const storage = repo.storage;
  const found = isRetaining(storage) ? await storage.objectLock() : null;
  const lock = found === 'unreadable' ? null : found;
  if (!isRetaining(storage) || !lock)
    throw new EngineError(
      'invalid-argument',
      `${storage.location} has no object lock: this step is for an S3 repository whose bucket has a default retention (init --object-lock-days)`,
    );
  await repo.loadIndex();
  const now = Date.now();
  const until = now + lock.days * DAY_MS;
  const young = (await repo.listSnapshots()).filter((s) => now - Date.parse(s.time) < lock.days * DAY_MS);
  const refs = await collectReferences(
    repo,
    young.map((s) => s.tree),
  );
  // With a tree unreadable the packs its files use are unknown: every pack is kept then (keeping too much costs only
  // space; keeping too little would let a delete take data a young snapshot needs).
  const incomplete = refs.errors.length > 0 ? `snapshots cannot be read whole (run verify): ${refs.errors[0]}` : null;
  const packs = new Set<string>();
  if (incomplete) for (const p of await storage.list('data')) packs.add(p.name);
  else
    for (const id of [...refs.trees, ...refs.data]) {
      const at = repo.index.get(id);
      if (at) packs.add(at.pack);
    }
  const names = [
    'config',
    ...(await storage.list('keys')).map((k) => `keys/${k.name}`),
    ...(await storage.list('index')).map((i) => `index/${i.name}`),
    ...young.map((s) => `snapshots/${s.id}`),
    ...[...packs].map((p) => `data/${p}`),
  ];
  let extended = 0;
  const missing: string[] = [];
  for (const name of names) {
    try {
      if (await storage.extendRetention(name, until)) extended++;
    } catch (err) {
      // Gone since it was listed (deleted, or a prune's superseded index file): the rest is still kept.
      if (!isEngineError(err, 'not-found')) throw err;
      missing.push(name);
    }
  }
  return {
    days: lock.days,
    snapshots: young.length,
    objects: names.length,
    extended,
    missing,
    until: new Date(until).toISOString(),
    incomplete,
  };
}

export interface UndeleteResult {
  asOf: string;
  /** Objects whose version as of then was made current again (they had been deleted or overwritten since). */
  restored: string[];
  /** Objects that were not there then (written since): hidden behind a delete marker, kept by the bucket. */
  hidden: string[];
}

/** Makes every object under the repository's prefix what it was at `asOfMs`: for each, the newest version written
 *  at or before then becomes current again if it is not (a copy of it), and an object that did not exist then is
 *  hidden. Versions are never removed: running it again, or with another time, is always possible. */
export async function undelete(storage: S3Storage, asOfMs: number, dryRun = false): Promise<UndeleteResult> {
  // Without versions a bucket has nothing to go back to, and hiding an object would delete it.
  if (!(await storage.keepsVersions()))
    throw new EngineError(
      'invalid-argument',
      `S3 bucket ${storage.location} keeps no versions: there is nothing to undelete (object lock keeps them; init --object-lock-days)`,
    );
  const byKey = new Map<string, ObjectVersion[]>();
  for (const v of await storage.listVersions()) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
  const result: UndeleteResult = { asOf: new Date(asOfMs).toISOString(), restored: [], hidden: [] };
  for (const [key, versions] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const then = versionAsOf(versions, asOfMs);
    const current = versions.find((v) => v.latest) ?? versionAsOf(versions, Number.POSITIVE_INFINITY)!;
    if (!then || then.deleteMarker) {
      if (!current.deleteMarker) {
        if (!dryRun) await storage.hide(key);
        result.hidden.push(key);
      }
      continue;
    }
    // Already what it was then (the same version, or a copy of it made by an earlier run).
    if (current.versionId === then.versionId || (!current.deleteMarker && current.etag === then.etag)) continue;
    if (!dryRun) await storage.restoreVersion(key, then.versionId);
    result.restored.push(key);
  }
  return result;
}

/** The version (or delete marker) of one object that was current at `asOfMs`, or undefined if it did not exist.
 *  Of entries with the same time (servers that give times to the second), the current one, else a delete marker,
 *  counts as the later: an object written and deleted within a second was deleted. */
export function versionAsOf(versions: ObjectVersion[], asOfMs: number): ObjectVersion | undefined {
  const rank = (v: ObjectVersion) => (v.latest ? 2 : v.deleteMarker ? 1 : 0);
  return [...versions]
    .sort((a, b) => b.modifiedMs - a.modifiedMs || rank(b) - rank(a))
    .find((v) => v.modifiedMs <= asOfMs);
}
