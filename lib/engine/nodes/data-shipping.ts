// Warm standby through the repository: the primary ships its service's databases as snapshots (tag "ship",
// source key ship:<group>), and each standby applies the newest one into its own data directory, staged and
// renamed into place so that a crash mid-apply leaves the previous copy whole.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

import { runBackup } from '../backup/run-backup';
import { fsPath } from '../byte-names';
import { isEngineError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import type { TreeNode } from '../repository/tree';
import { applyMetadata } from '../restore/metadata';
import { SQLITE_SIDECARS } from '../sources/sqlite-file';
import { diffSnapshots } from '../diff/diff-snapshots';
import { type RestoreOptions, runRestore } from '../restore/run-restore';
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
    // Beside the service and its replication: ships give way.
    background: true,
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

  /** A ship read before (null: not known, or gone). */
  get(id: string | null): SnapshotRecord | null {
    return (id && this.known.get(id)) || null;
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
    await restoreShipped(repo, { snapshot, target: staging, signal, workerScript });
    await fs.mkdir(dataDir, { recursive: true });
    signal?.throwIfAborted();
    // Shipped paths are the primary's (its data directory); each lands at the same relative place in ours.
    const wanted = shippedParts(service);
    const aside = keepPreviousIn ?? path.join(staging, '.replaced');
    await fs.mkdir(aside, { recursive: true, mode: 0o700 });
    for (const shipped of snapshot.paths) {
      const entry = wanted.find((w) => shipped.endsWith(`/${w.rel}`));
      if (!entry) continue;
      const dest = path.resolve(dataDir, entry.rel);
      await fs.mkdir(path.dirname(dest), { recursive: true });
      // What is replaced moves aside first (kept, or removed with the staging directory): never half of each.
      for (const suffix of ['', ...entry.sidecars])
        await fs.rename(dest + suffix, path.join(aside, keptName(entry.rel) + suffix)).catch(ignoreMissing);
      await fs.rename(path.join(staging, shipped), dest);
    }
    const dir = await fs.open(dataDir, 'r');
    await dir.sync().finally(() => dir.close());
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return { snapshot: snapshot.id, dataTime: Date.parse(snapshot.summary.startedAt) };
}

/** What a ship holds, each path (relative to the data directory) with the files beside it that go with it. */
function shippedParts(service: ServiceConfig): { rel: string; sidecars: readonly string[] }[] {
  return [
    ...service.sqlite.map((rel) => ({ rel, sidecars: SQLITE_SIDECARS })),
    ...service.paths.map((rel) => ({ rel, sidecars: [] as readonly string[] })),
  ];
}

/** Restores (a part of) a ship into a staging directory, its worker threads giving way to the service: if a
 *  prune replaced packs since the index was read, the index is read afresh once. */
async function restoreShipped(repo: Repository, options: RestoreOptions): Promise<void> {
  await repo.loadIndex();
  try {
    await runRestore(repo, { ...options, background: true });
  } catch (err) {
    if (!isEngineError(err, 'not-found')) throw err;
    await repo.reloadIndex();
    await runRestore(repo, { ...options, background: true });
  }
}

/** More changed entries than this in one ship: it is applied whole (each entry's path is matched against every
 *  other as the restore is planned). */
const MAX_CHANGES = 2000;

/** Applies a ship as the changes since `previous`, the ship applied last (15.4): only the files that changed are
 *  restored, staged and each renamed into place on its own; what is gone is removed; every other file stays as it
 *  is. A crash midway leaves each file whole, old or new: the next apply must then be whole (`applyShipped`).
 *  Returns null, having changed nothing, where the changes cannot be told apart: the ships back up other paths, or
 *  too much changed. */
export async function applyShippedChanges(
  repo: Repository,
  service: ServiceConfig,
  previous: SnapshotRecord,
  snapshot: SnapshotRecord,
  stagingRoot: string,
  dataDir = service.dataDir,
  signal?: AbortSignal,
  workerScript?: string,
): Promise<(Shipped & { changed: number; removed: number }) | null> {
  const roots = [...snapshot.paths].sort();
  if (roots.join('\n') !== [...previous.paths].sort().join('\n')) return null;
  const wanted = shippedParts(service);
  // Where each of the snapshot's paths lands here.
  const placeOf = (p: string): { dest: string; sidecars: readonly string[] } | null => {
    for (const root of roots) {
      if (p !== root && !p.startsWith(`${root}/`)) continue;
      const entry = wanted.find((w) => root.endsWith(`/${w.rel}`));
      if (!entry) return null;
      return {
        dest: path.resolve(dataDir, entry.rel) + p.slice(root.length),
        sidecars: p === root ? entry.sidecars : [],
      };
    }
    return null;
  };
  const diff = (await diffSnapshots(repo, previous.tree, snapshot.tree)).filter((d) => placeOf(d.path) !== null);
  if (diff.length > MAX_CHANGES) return null;
  // The topmost of each: a directory added or removed goes whole.
  const topmost = (entries: typeof diff) => {
    const dirs = entries.filter((d) => d.type === 'dir').map((d) => `${d.path}/`);
    return entries.filter((d) => !dirs.some((dir) => d.path.startsWith(dir)));
  };
  const put = topmost(diff.filter((d) => d.change !== 'removed'));
  const removed = topmost(diff.filter((d) => d.change === 'removed'));
  const staging = path.join(stagingRoot, `apply-${Date.now()}`);
  await fs.rm(staging, { recursive: true, force: true });
  try {
    if (put.length > 0) {
      await restoreShipped(repo, { snapshot, target: staging, include: put.map((d) => d.path), signal, workerScript });
    }
    signal?.throwIfAborted();
    const aside = path.join(staging, '.replaced');
    await fs.mkdir(aside, { recursive: true, mode: 0o700 });
    let n = 0;
    // What is replaced or removed moves aside first (removed with the staging directory): a file is never half
    // old, half new.
    const moveAside = (file: string) => fs.rename(fsPath(file), path.join(aside, String(n++))).catch(ignoreMissing);
    for (const d of removed) {
      const place = placeOf(d.path)!;
      for (const suffix of ['', ...place.sidecars]) await moveAside(place.dest + suffix);
    }
    for (const d of put) {
      const place = placeOf(d.path)!;
      await fs.mkdir(fsPath(path.dirname(place.dest)), { recursive: true });
      const existing = await fs.lstat(fsPath(place.dest)).catch(() => null);
      // A file renames over a file in one step; a directory, or anything in the place of one, moves aside first.
      if (existing && (existing.isDirectory() || d.type === 'dir')) await moveAside(place.dest);
      for (const suffix of place.sidecars) await moveAside(place.dest + suffix);
      await fs.rename(fsPath(path.join(staging, d.path)), fsPath(place.dest));
    }
    // The directories whose entries changed: put on disk, and given the snapshot's mode and time again (the
    // renames changed their time).
    const parents = new Set([...put, ...removed].map((d) => path.posix.dirname(d.path)).filter((p) => placeOf(p)));
    for (const dir of parents) {
      const dest = placeOf(dir)!.dest;
      const handle = await fs.open(fsPath(dest), 'r');
      await handle.sync().finally(() => handle.close());
      const node = await nodeAt(repo, snapshot.tree, dir);
      if (node?.type === 'dir') applyMetadata(dest, node);
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return {
    snapshot: snapshot.id,
    dataTime: Date.parse(snapshot.summary.startedAt),
    changed: put.length,
    removed: removed.length,
  };
}

/** The entry at `p` (absolute, as backed up) in the tree `root`; null where there is none. */
async function nodeAt(repo: Repository, root: string, p: string): Promise<TreeNode | null> {
  let tree: string | undefined = root;
  let node: TreeNode | null = null;
  for (const name of p.split('/').filter(Boolean)) {
    if (!tree) return null;
    node = (await repo.readTree(tree)).nodes.find((n) => n.name === name) ?? null;
    if (!node) return null;
    tree = node.subtree;
  }
  return node;
}

/** A path of the service's data (relative to its data directory) as the name of its file in a kept set: one name
 *  of its own for each path ("a/b.db" and "a_b.db" are two), readable. */
export function keptName(rel: string): string {
  return encodeURIComponent(rel);
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
