// A DR drill on a node: restore a shipped snapshot into a scratch directory (with log replication: each database's
// newest base, and the other paths' newest ship), start the service there on a free port, time it until its
// health check passes, then stop it and remove everything. The node's own service and data are not touched.
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { freePort } from '../free-port';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import type { ServiceConfig } from './agent-config';
import type { DrillResult } from './agent-protocol';
import { runRestore } from '../restore/run-restore';
import { BASE_LOG, readBase } from '../replication/replicator';
import { applyShipped } from './data-shipping';
import { startService, stopService, type RunningService } from './service-supervisor';

/** `signal` aborts it (a promotion of this node does): the scratch copy is removed all the same. */
export async function runDrill(
  repo: Repository,
  service: ServiceConfig,
  /** A ship, whole (copies), or with log replication the other paths' newest ship (if any) and each database's
   *  newest base, by its name in the service's config. */
  from: SnapshotRecord | { ship: SnapshotRecord | null; bases: { db: string; snapshot: SnapshotRecord }[] },
  scratch: string,
  signal?: AbortSignal,
): Promise<DrillResult> {
  const started = Date.now();
  let running: RunningService | null = null;
  let dataTime: number | null = null;
  const parts = 'bases' in from ? from : { ship: from, bases: [] };
  const snapshot = parts.ship ?? parts.bases[0].snapshot;
  try {
    const dataDir = path.join(scratch, 'data');
    if (parts.ship)
      dataTime = (await applyShipped(repo, service, parts.ship, path.join(scratch, 'staging'), dataDir, signal))
        .dataTime;
    for (const [i, { db, snapshot: base }] of parts.bases.entries()) {
      const staging = path.join(scratch, 'bases', String(i));
      await mkdir(staging, { recursive: true });
      await runRestore(repo, { snapshot: base, target: staging, signal });
      const files = readBase(path.join(staging, base.paths[0]));
      const dest = path.resolve(dataDir, db);
      await mkdir(path.dirname(dest), { recursive: true });
      await rename(path.join(files.baseDir, 'base.db'), dest);
      // The part of the log the base needs, beside it, where SQLite reads it when the service opens the database.
      if (files.position.log !== null && !files.logInFile)
        await rename(path.join(files.baseDir, BASE_LOG), `${dest}-wal`);
      const time = Date.parse(base.summary.startedAt);
      dataTime = dataTime === null ? time : Math.min(dataTime, time);
    }
    signal?.throwIfAborted();
    running = await startService(service, { port: await freePort(), dataDir: path.join(scratch, 'data') });
    return { ok: true, snapshot: snapshot.id, dataTime, timeToReadyMs: Date.now() - started, leftRunning: false };
  } catch (err) {
    return {
      ok: false,
      snapshot: snapshot.id,
      dataTime,
      timeToReadyMs: Date.now() - started,
      error: (err as Error).message,
      leftRunning: false,
    };
  } finally {
    if (running) await stopService(service, running);
    await rm(scratch, { recursive: true, force: true });
  }
}
