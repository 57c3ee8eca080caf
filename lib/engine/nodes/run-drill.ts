// A DR drill on a node: restore a shipped snapshot into a scratch directory, start the service there on a free
// port, time it until its health check passes, then stop it and remove everything. The node's own service and
// data are not touched.
import { rm } from 'node:fs/promises';
import path from 'node:path';

import { freePort } from '../free-port';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import type { ServiceConfig } from './agent-config';
import type { DrillResult } from './agent-protocol';
import { applyShipped } from './data-shipping';
import { startService, stopService, type RunningService } from './service-supervisor';

/** `signal` aborts it (a promotion of this node does): the scratch copy is removed all the same. */
export async function runDrill(
  repo: Repository,
  service: ServiceConfig,
  snapshot: SnapshotRecord,
  scratch: string,
  signal?: AbortSignal,
): Promise<DrillResult> {
  const started = Date.now();
  let running: RunningService | null = null;
  let dataTime: number | null = null;
  try {
    dataTime = (
      await applyShipped(repo, service, snapshot, path.join(scratch, 'staging'), path.join(scratch, 'data'), signal)
    ).dataTime;
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
