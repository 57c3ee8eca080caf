// Warm standby through the repository: the primary ships its service's databases as snapshots (tag "ship",
// source key ship:<group>), and each standby applies the newest one into its own data directory, staged and
// renamed into place so that a crash mid-apply leaves the previous copy whole.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

import { runBackup } from '../backup/run-backup';
import { isEngineError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import { SQLITE_SIDECARS } from '../sources/sqlite-file';
import { runRestore } from '../restore/run-restore';
import type { ServiceConfig } from './agent-config';
import { BASE_TAG, baseDbTag, generationTag, SHIP_TAG, shipSourceKey } from './agent-protocol';

export interface Shipped {
  snapshot: string;
  /** The data is at least as new as this: the copy began after it. */
  dataTime: number;
}

export function databasePaths(service: ServiceConfig, dataDir = service.dataDir): string[] {
  return service.sqlite.map((f) => path.resolve(dataDir, f));
}

/** The service's other data (files and directories under its data directory) shipped beside its databases. */
export function dataPaths(service: ServiceConfig, dataDir = service.dataDir): string[] {
  return service.paths.map((f) => path.resolve(dataDir, f));
}

/** Ships are tagged with the epoch of the primary that wrote them; a standby applies only the current epoch's. */
export function epochTag(epoch: number): string {
  return `epoch:${epoch}`;
}

export async function shipData(
  repo: Repository,
  service: ServiceConfig,
  options: {
    groupId: string;
    node: string;
    epoch: number;
    parent: string | null;
    signal?: AbortSignal;
    cacheDir: string;
    /** The compiled backup-worker and sqlite-copy-worker scripts: the databases are copied, and the files hashed,
     *  compressed and sealed, off the caller's thread. */
    workerScript?: string;
    sqliteWorkerScript?: string;
  },
): Promise<Shipped> {
  const result = await runBackup(repo, {
    cacheDir: options.cacheDir,
    paths: dataPaths(service).filter((p) => existsSync(p)),
    sqlite: databasePaths(service),
    node: 'ship',
    sourceName: options.groupId,
    tags: [SHIP_TAG, `node:${options.node}`, epochTag(options.epoch)],
    parent: options.parent,
    signal: options.signal,
    workerScript: options.workerScript,
    sqliteWorkerScript: options.sqliteWorkerScript,
    // A prune's exclusive window is short; the next round ships anyway.
    lockWaitMs: 2000,
  });
  return { snapshot: result.id, dataTime: Date.parse(result.snapshot.summary.startedAt) };
}

/** Snapshot manifests are immutable, so each is read once per process. */
export class ShipSnapshots {
  private readonly known = new Map<string, SnapshotRecord>();

  has(id: string): boolean {
    return this.known.has(id);
  }

  /** Reads the manifests not read yet, and forgets those that are gone. */
  private async read(repo: Repository): Promise<void> {
    const names = await repo.storage.list('snapshots');
    for (const { name } of names) {
      if (this.known.has(name)) continue;
      try {
        this.known.set(name, await repo.readSnapshot(name, true));
      } catch (err) {
        if (!isEngineError(err, 'not-found')) throw err;
      }
    }
    const present = new Set(names.map((n) => n.name));
    for (const id of this.known.keys()) if (!present.has(id)) this.known.delete(id);
  }

  /** The newest ship of `groupId` from its highest epoch that shipped anything (`epoch` "newest"), of `epoch`, or
   *  of any epoch (null). */
  async newest(repo: Repository, groupId: string, epoch: number | null | 'newest'): Promise<SnapshotRecord | null> {
    await this.read(repo);
    const key = shipSourceKey(groupId);
    const ships = [...this.known.values()].filter((s) => s.source === key && s.tags.includes(SHIP_TAG));
    const epochOf = (s: SnapshotRecord) =>
      Number(s.tags.find((t) => t.startsWith('epoch:'))?.slice('epoch:'.length) ?? Number.NaN);
    let wanted = epoch;
    if (wanted === 'newest') {
      wanted = -1;
      for (const s of ships) if (epochOf(s) > wanted) wanted = epochOf(s);
    }
    let best: SnapshotRecord | null = null;
    for (const s of ships)
      if ((wanted === null || s.tags.includes(epochTag(wanted))) && (!best || s.time > best.time)) best = s;
    return best;
  }

  /** The newest base of database `db` (log replication) of `generation` (null: of any). */
  async newestBase(
    repo: Repository,
    groupId: string,
    db: string,
    generation: string | null,
  ): Promise<SnapshotRecord | null> {
    await this.read(repo);
    const key = shipSourceKey(groupId);
    let best: SnapshotRecord | null = null;
    for (const s of this.known.values())
      if (
        s.source === key &&
        s.tags.includes(BASE_TAG) &&
        s.tags.includes(baseDbTag(db)) &&
        (generation === null || s.tags.includes(generationTag(generation))) &&
        (!best || s.time > best.time)
      )
        best = s;
    return best;
  }
}

/** Restores a shipped snapshot's databases into `dataDir` (the service must not be running on them). With
 *  `keepPreviousIn`, the files it replaces (with their -wal and -shm) are moved there instead of deleted: a
 *  fenced primary's writes that never shipped stay recoverable. */
export async function applyShipped(
  repo: Repository,
  service: ServiceConfig,
  snapshot: SnapshotRecord,
  stagingRoot: string,
  dataDir = service.dataDir,
  signal?: AbortSignal,
  keepPreviousIn?: string,
  /** The compiled restore-worker script: packs are decrypted and checked off the caller's thread. */
  workerScript?: string,
): Promise<Shipped> {
  const staging = path.join(stagingRoot, `apply-${Date.now()}`);
  await fs.rm(staging, { recursive: true, force: true });
  try {
    await repo.loadIndex();
    try {
      await runRestore(repo, { snapshot, target: staging, signal, workerScript });
    } catch (err) {
      // A prune replaced packs since the index was read: read it afresh once.
      if (!isEngineError(err, 'not-found')) throw err;
      await repo.reloadIndex();
      await runRestore(repo, { snapshot, target: staging, signal, workerScript });
    }
    await fs.mkdir(dataDir, { recursive: true });
    signal?.throwIfAborted();
    // Shipped paths are the primary's (its data directory); each lands at the same relative place in ours.
    const wanted = [
      ...service.sqlite.map((rel) => ({ rel, sidecars: SQLITE_SIDECARS })),
      ...service.paths.map((rel) => ({ rel, sidecars: [] as readonly string[] })),
    ];
    const aside = keepPreviousIn ?? path.join(staging, '.replaced');
    await fs.mkdir(aside, { recursive: true, mode: 0o700 });
    for (const shipped of snapshot.paths) {
      const entry = wanted.find((w) => shipped.endsWith(`/${w.rel}`));
      if (!entry) continue;
      const dest = path.resolve(dataDir, entry.rel);
      await fs.mkdir(path.dirname(dest), { recursive: true });
      // What is replaced moves aside first (kept, or removed with the staging directory): never half of each.
      for (const suffix of ['', ...entry.sidecars])
        await fs.rename(dest + suffix, path.join(aside, entry.rel.replaceAll('/', '_') + suffix)).catch(ignoreMissing);
      await fs.rename(path.join(staging, shipped), dest);
    }
    const dir = await fs.open(dataDir, 'r');
    await dir.sync().finally(() => dir.close());
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return { snapshot: snapshot.id, dataTime: Date.parse(snapshot.summary.startedAt) };
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
