// 17.1: what /metrics exports, in Prometheus' text format (prom-client). Read from the dashboard's database and its
// failure detectors at each scrape, into a registry of its own: nothing is counted twice, and what the database
// says is what Prometheus sees. The names are listed in docs/metrics.md; docs/grafana-dashboard.json charts them.
import 'server-only';

import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { Counter, Gauge, Registry } from 'prom-client';

import { db } from '../db/client';
import { backupFigures, failoverEvents, failoverGroups, jobs, sources } from '../db/schema';
import { liveNodes } from './failover';
import { nodeNames } from './node-registry';
import { sourceHealth } from './overview';
import { latestStats } from './repository-stats';

const seconds = (ms: number) => ms / 1000;

/** The exported metrics' names and help, in one place: the route, the docs' test and the dashboard's check read it. */
export const METRICS = {
  sourceLastSuccess: [
    'lifeline_source_last_success_timestamp_seconds',
    'When the newest good backup of the source ended.',
  ],
  sourceRpo: ['lifeline_source_rpo_seconds', 'Backup RPO of the source: now minus the end of its newest good backup.'],
  sourceRpoTarget: ['lifeline_source_rpo_target_seconds', "The RPO target of the source's plan."],
  sourceFlagged: [
    'lifeline_source_flagged_backups',
    'Backups of the source flagged as unlike its usual ones and not dismissed.',
  ],
  jobs: ['lifeline_jobs_total', 'Jobs that ended, by kind and outcome.'],
  jobDuration: [
    'lifeline_job_duration_seconds_total',
    'Time spent in jobs that ended, by kind (divide by lifeline_jobs_total for the mean).',
  ],
  jobLastDuration: [
    'lifeline_job_last_duration_seconds',
    "The source's newest job of each kind that ended: how long it took.",
  ],
  backupAdded: [
    'lifeline_backup_added_bytes_total',
    'Bytes that backups of the source added to the repository (compressed and sealed).',
  ],
  repositoryStored: ['lifeline_repository_stored_bytes', "What the repository's packs take."],
  repositoryLogical: ['lifeline_repository_logical_bytes', 'Content of all snapshots, each counted whole.'],
  repositoryDedup: ['lifeline_repository_dedup_ratio', 'Content of all snapshots over the distinct data behind it.'],
  repositoryCompression: ['lifeline_repository_compression_ratio', 'The distinct data over what it takes as stored.'],
  repositorySnapshots: ['lifeline_repository_snapshots', 'Snapshots in the repository.'],
  repositorySampled: ['lifeline_repository_sampled_timestamp_seconds', "When the repository's statistics were read."],
  nodeUp: ['lifeline_node_up', "Whether the node's agent answers its failure detector's probes (1) or not (0)."],
  nodeRole: ['lifeline_node_role', 'The role the node reports in its group: 1 for the role it has.'],
  nodeLatency: ['lifeline_node_probe_latency_seconds', "The latency of the node's last probe."],
  failovers: ['lifeline_failovers_total', 'Failovers, switchovers and force-failovers of the group, by outcome.'],
  failoverLastRto: [
    'lifeline_failover_last_rto_seconds',
    "The group's newest successful failover: its gap in service.",
  ],
  failoverLastRpo: [
    'lifeline_failover_last_rpo_seconds',
    "The group's newest successful failover: the age of the data it started from.",
  ],
  failoverLostWrites: [
    'lifeline_failover_lost_writes_total',
    'Acknowledged writes lost in failovers of the group, where a load counted them.',
  ],
} as const;

export const METRIC_NAMES = Object.values(METRICS).map(([name]) => name);

type Key = keyof typeof METRICS;

export async function metricsText(now = Date.now()): Promise<{ text: string; contentType: string }> {
  const registry = new Registry();
  const gauge = (key: Key, labelNames: string[]) =>
    new Gauge({ name: METRICS[key][0], help: METRICS[key][1], labelNames, registers: [registry] });
  const counter = (key: Key, labelNames: string[]) =>
    new Counter({ name: METRICS[key][0], help: METRICS[key][1], labelNames, registers: [registry] });

  const health = sourceHealth(now);
  const lastSuccess = gauge('sourceLastSuccess', ['source']);
  const rpo = gauge('sourceRpo', ['source']);
  const rpoTarget = gauge('sourceRpoTarget', ['source']);
  for (const h of health) {
    const source = h.source.name;
    if (h.lastBackupAt !== null) lastSuccess.set({ source }, seconds(h.lastBackupAt));
    if (h.ageMs !== null) rpo.set({ source }, seconds(h.ageMs));
    rpoTarget.set({ source }, h.plan.rpoTargetMinutes * 60);
  }
  const flagged = gauge('sourceFlagged', ['source']);
  for (const h of health) flagged.set({ source: h.source.name }, 0);
  for (const row of db()
    .select({ source: sources.name, n: sql<number>`count(*)` })
    .from(backupFigures)
    .innerJoin(sources, eq(sources.id, backupFigures.sourceId))
    .where(and(eq(backupFigures.flagged, true), isNull(backupFigures.dismissedAt)))
    .groupBy(sources.name)
    .all())
    flagged.set({ source: row.source }, row.n);

  const ended = inArray(jobs.status, ['succeeded', 'failed', 'cancelled', 'interrupted']);
  const jobCount = counter('jobs', ['kind', 'status']);
  const jobTime = counter('jobDuration', ['kind']);
  for (const row of db()
    .select({
      kind: jobs.kind,
      status: jobs.status,
      n: sql<number>`count(*)`,
      ms: sql<number>`coalesce(sum(${jobs.endedAt} - ${jobs.startedAt}), 0)`,
    })
    .from(jobs)
    .where(ended)
    .groupBy(jobs.kind, jobs.status)
    .all()) {
    jobCount.inc({ kind: row.kind, status: row.status }, row.n);
    if (row.ms > 0) jobTime.inc({ kind: row.kind }, seconds(row.ms));
  }
  const lastDuration = gauge('jobLastDuration', ['source', 'kind']);
  for (const row of db()
    .select({
      source: sources.name,
      kind: jobs.kind,
      ms: sql<number>`(${jobs.endedAt} - ${jobs.startedAt})`,
      id: sql<number>`max(${jobs.id})`,
    })
    .from(jobs)
    .innerJoin(sources, eq(sources.id, jobs.sourceId))
    .where(and(ended, isNotNull(jobs.startedAt)))
    .groupBy(sources.name, jobs.kind)
    .all())
    lastDuration.set({ source: row.source, kind: row.kind }, seconds(row.ms));
  const added = counter('backupAdded', ['source']);
  for (const row of db()
    .select({ source: sources.name, bytes: sql<number>`coalesce(sum(${jobs.newBytes}), 0)` })
    .from(jobs)
    .innerJoin(sources, eq(sources.id, jobs.sourceId))
    .where(and(eq(jobs.kind, 'backup'), eq(jobs.status, 'succeeded')))
    .groupBy(sources.name)
    .all())
    added.inc({ source: row.source }, row.bytes);

  const stored = gauge('repositoryStored', ['repository']);
  const logical = gauge('repositoryLogical', ['repository']);
  const dedup = gauge('repositoryDedup', ['repository']);
  const compression = gauge('repositoryCompression', ['repository']);
  const snapshots = gauge('repositorySnapshots', ['repository']);
  const sampled = gauge('repositorySampled', ['repository']);
  for (const r of latestStats()) {
    const repository = r.repository;
    stored.set({ repository }, r.packBytes);
    logical.set({ repository }, r.logicalBytes);
    dedup.set({ repository }, r.dedupRatio);
    compression.set({ repository }, r.compressionRatio);
    snapshots.set({ repository }, r.snapshots);
    sampled.set({ repository }, seconds(r.at));
  }

  const names = nodeNames();
  const groups = db().select({ id: failoverGroups.id, name: failoverGroups.name }).from(failoverGroups).all();
  const up = gauge('nodeUp', ['node', 'group']);
  const role = gauge('nodeRole', ['node', 'group', 'role']);
  const latency = gauge('nodeLatency', ['node', 'group']);
  for (const group of groups)
    for (const live of liveNodes(group.id)) {
      const labels = { node: names.get(live.nodeId) ?? live.nodeId, group: group.name };
      up.set(labels, live.agentUp ? 1 : 0);
      for (const r of ['primary', 'standby'] as const) role.set({ ...labels, role: r }, live.role === r ? 1 : 0);
      if (live.latencyMs !== null) latency.set(labels, seconds(live.latencyMs));
    }

  const failovers = counter('failovers', ['group', 'kind', 'ok']);
  const lastRto = gauge('failoverLastRto', ['group']);
  const lastRpo = gauge('failoverLastRpo', ['group']);
  const lost = counter('failoverLostWrites', ['group']);
  const groupName = new Map(groups.map((g) => [g.id, g.name]));
  for (const row of db()
    .select({
      groupId: failoverEvents.groupId,
      kind: failoverEvents.kind,
      ok: failoverEvents.ok,
      n: sql<number>`count(*)`,
      lost: sql<number>`coalesce(sum(${failoverEvents.lostWrites}), 0)`,
    })
    .from(failoverEvents)
    .groupBy(failoverEvents.groupId, failoverEvents.kind, failoverEvents.ok)
    .all()) {
    const group = groupName.get(row.groupId) ?? row.groupId;
    failovers.inc({ group, kind: row.kind, ok: String(row.ok) }, row.n);
    lost.inc({ group }, row.lost);
  }
  for (const row of db()
    .select({
      groupId: failoverEvents.groupId,
      rtoMs: failoverEvents.rtoMs,
      rpoMs: failoverEvents.rpoMs,
      id: sql<number>`max(${failoverEvents.id})`,
    })
    .from(failoverEvents)
    .where(eq(failoverEvents.ok, true))
    .groupBy(failoverEvents.groupId)
    .all()) {
    const group = groupName.get(row.groupId) ?? row.groupId;
    if (row.rtoMs !== null) lastRto.set({ group }, seconds(row.rtoMs));
    if (row.rpoMs !== null) lastRpo.set({ group }, seconds(row.rpoMs));
  }
  return { text: await registry.metrics(), contentType: registry.contentType };
}
