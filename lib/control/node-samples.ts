// Probe history per node: raw samples for the last hour, then one row per node and minute.
import 'server-only';

import { and, desc, eq } from 'drizzle-orm';

import { db } from '../db/client';
import { nodeSamples, type NodeSample } from '../db/schema';

const RAW_KEEP_MS = 60 * 60_000;
const MINUTE_KEEP_MS = 30 * 24 * 60 * 60_000;

export function recordSample(nodeId: string, at: number, ok: boolean, latencyMs: number | null): void {
  db()
    .insert(nodeSamples)
    .values({ nodeId, at, okProbes: ok ? 1 : 0, latencyMs })
    .run();
}

/** Folds raw samples older than an hour into per-minute rows, and drops what is older than 30 days. */
export function downsampleSamples(now = Date.now()): void {
  const cutoff = now - RAW_KEEP_MS;
  const client = db().$client;
  client.transaction(() => {
    client
      .prepare(
        `INSERT INTO node_samples (node_id, at, resolution, probes, ok_probes, latency_ms)
         SELECT node_id, (at / 60000) * 60000, 'minute', sum(probes), sum(ok_probes), avg(latency_ms)
         FROM node_samples WHERE resolution = 'raw' AND at < ? GROUP BY node_id, at / 60000`,
      )
      .run(cutoff);
    client.prepare(`DELETE FROM node_samples WHERE resolution = 'raw' AND at < ?`).run(cutoff);
    client.prepare(`DELETE FROM node_samples WHERE at < ?`).run(now - MINUTE_KEEP_MS);
  })();
}

export function recentSamples(nodeId: string, limit = 120): NodeSample[] {
  return db()
    .select()
    .from(nodeSamples)
    .where(and(eq(nodeSamples.nodeId, nodeId), eq(nodeSamples.resolution, 'raw')))
    .orderBy(desc(nodeSamples.at))
    .limit(limit)
    .all()
    .reverse();
}
