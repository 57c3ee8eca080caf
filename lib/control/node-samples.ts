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

export interface LatencySample {
  /** The start of the bucket. */
  at: number;
  probes: number;
  okProbes: number;
  /** Mean latency of the probes answered; null where none was. */
  latencyMs: number | null;
}

/** A node's probes since `from`, in at most `buckets` points (raw rows for the last hour, per-minute rows before):
 *  a month is as cheap to draw as an hour. */
export function samplesSince(nodeId: string, from: number, to = Date.now(), buckets = 240): LatencySample[] {
  const bucketMs = Math.max(1000, Math.ceil((to - from) / buckets));
  return db()
    .$client.prepare(
      // The bucket's start by the remainder, which SQLite takes in integers (a bound number may arrive as a real).
      `SELECT at - (at % ?) AS bucket, sum(probes) AS probes, sum(ok_probes) AS okProbes,
              CASE WHEN sum(ok_probes) > 0 THEN avg(latency_ms) END AS latencyMs
       FROM node_samples WHERE node_id = ? AND at >= ? AND at <= ?
       GROUP BY bucket ORDER BY bucket`,
    )
    .all(bucketMs, nodeId, from, to)
    .map((row) => {
      const { bucket, ...rest } = row as Omit<LatencySample, 'at'> & { bucket: number };
      return { at: bucket, ...rest };
    });
}
