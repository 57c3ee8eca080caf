// What the overview shows per source: the age of its newest good snapshot against its RPO target.
import 'server-only';

import { and, desc, eq, gte, inArray, isNotNull, lt, or } from 'drizzle-orm';

import { db } from '../db/client';
import type { DurationBar } from '../chart-data';
import { RANGES, type ChartMark, type Range } from '../chart-range';
import {
  copyStatus,
  drills,
  failoverEvents,
  failoverGroups,
  jobs,
  plans,
  snapshots,
  sources,
  type JobStatus,
  type Plan,
  type Source,
} from '../db/schema';
import { formatBytes } from '../format';
import { rpoStatus, type RpoStatus } from '../rpo';
import { rpoSeries, type RpoPoint } from '../rpo-series';
import { sourceKeyOf } from './job-queue';
import { listCopyRepositories, isOffMachine } from './copies';
import { repositoryInfo } from './repository';
import { nextRun } from './scheduler';

/** A source's RPO in one repository for copies. */
export interface CopyHealth {
  repository: string;
  offMachine: boolean;
  /** When the newest snapshot there was taken, or null if none is there yet. */
  newestAt: number | null;
  ageMs: number | null;
  status: RpoStatus;
}

export interface SourceHealth {
  source: Source;
  plan: Plan;
  lastBackupAt: number | null;
  /** Its newest backup job that ended, whatever its outcome (a failure after the last good snapshot shows). */
  lastAttempt: { jobId: number; status: JobStatus; endedAt: number; error: string | null } | null;
  ageMs: number | null;
  status: RpoStatus;
  nextRunAt: number | null;
  /** The repository its backups go to, and whether that is off this machine. */
  repository: { offMachine: boolean };
  /** The repository for copies its plan copies into, if any. */
  copies: CopyHealth[];
  /** Whether any copy of it is off the dashboard's machine (its main repository, or a copy). */
  offMachine: boolean;
}

export function sourceHealth(now = Date.now()): SourceHealth[] {
  const main = repositoryInfo();
  const mainOff = main ? isOffMachine(main.location) : false;
  const targets = new Map(listCopyRepositories().map((r) => [r.id, r]));
  const statuses = db().select().from(copyStatus).all();
  return db()
    .select({ source: sources, plan: plans })
    .from(sources)
    .innerJoin(plans, eq(plans.id, sources.planId))
    .orderBy(sources.name)
    .all()
    .map(({ source, plan }) => {
      const newest = db()
        .select({ endedAt: snapshots.endedAt })
        .from(snapshots)
        .where(eq(snapshots.sourceKey, sourceKeyOf(source)))
        .orderBy(desc(snapshots.endedAt))
        .limit(1)
        .get();
      const lastBackupAt = newest?.endedAt ?? null;
      const attempt = db()
        .select({ jobId: jobs.id, status: jobs.status, endedAt: jobs.endedAt, error: jobs.error })
        .from(jobs)
        .where(and(eq(jobs.sourceId, source.id), eq(jobs.kind, 'backup'), isNotNull(jobs.endedAt)))
        .orderBy(desc(jobs.endedAt))
        .limit(1)
        .get();
      const lastAttempt = attempt?.endedAt ? { ...attempt, endedAt: attempt.endedAt } : null;
      const ageMs = lastBackupAt === null ? null : Math.max(0, now - lastBackupAt);
      const key = sourceKeyOf(source);
      const held = new Map(statuses.filter((c) => c.sourceKey === key).map((c) => [c.repositoryId, c]));
      // The repository the plan copies into now (one it copied into before ages on there, and is not shown).
      const copyIds = plan.copyRepositoryId === null ? [] : [plan.copyRepositoryId];
      const copies = copyIds.flatMap((id): CopyHealth[] => {
        const target = targets.get(id);
        if (!target) return [];
        const newestAt = held.get(id)?.newestSnapshotAt ?? null;
        const age = newestAt === null ? null : Math.max(0, now - newestAt);
        return [
          {
            repository: target.name,
            offMachine: isOffMachine(target.location),
            newestAt,
            ageMs: age,
            status: rpoStatus(age, plan.rpoTargetMinutes),
          },
        ];
      });
      return {
        source,
        plan,
        lastBackupAt,
        lastAttempt,
        ageMs,
        status: rpoStatus(ageMs, plan.rpoTargetMinutes),
        nextRunAt: nextRun(plan.id)?.getTime() ?? null,
        repository: { offMachine: mainOff },
        copies,
        offMachine: (mainOff && lastBackupAt !== null) || copies.some((c) => c.offMachine && c.newestAt !== null),
      };
    });
}

const DAY_MS = 24 * 60 * 60 * 1000;

export interface OverviewCharts {
  /** The window the charts show: [from, to]. */
  from: number;
  to: number;
  /** Per source: its RPO over the window, and its failed backups and every failover in it, marked. */
  rpo: { name: string; targetMinutes: number; points: RpoPoint[]; marks: ChartMark[] }[];
  backups: DurationBar[];
  restores: DurationBar[];
  failures: { at: number; what: string; error: string | null }[];
  lastRtoBySource: Record<number, number>;
}

/** Failovers and switchovers in the window, as the charts mark them. */
export function failoverMarks(from: number, nodeId?: string): ChartMark[] {
  return db()
    .select({ event: failoverEvents, group: failoverGroups.name })
    .from(failoverEvents)
    .innerJoin(failoverGroups, eq(failoverGroups.id, failoverEvents.groupId))
    .where(
      and(
        gte(failoverEvents.createdAt, from),
        inArray(failoverEvents.kind, ['failover', 'switchover']),
        nodeId === undefined
          ? undefined
          : or(eq(failoverEvents.fromNodeId, nodeId), eq(failoverEvents.toNodeId, nodeId)),
      ),
    )
    .orderBy(failoverEvents.createdAt)
    .limit(MAX_MARKS)
    .all()
    .map(({ event, group }) => ({ at: event.outageStartedAt, label: `${event.kind} of ${group}`, kind: 'failover' }));
}

/** At most this many marks on a chart: beyond, they would hide the line. */
const MAX_MARKS = 50;
/** At most this many runs in a chart of durations. */
const MAX_BARS = 60;

/** The charts' data over the last `range`: measured from snapshots and jobs, never estimated. `health` is
 *  sourceHealth()'s answer, which the page has already. */
export function overviewCharts(health: SourceHealth[], range: Range = 'day', now = Date.now()): OverviewCharts {
  const from = now - RANGES[range];
  const failovers = failoverMarks(from);
  const rpo = health.map(({ source, plan }) => {
    const key = sourceKeyOf(source);
    // The snapshot before the window too: the age at the window's start grows from it.
    const before = db()
      .select({ endedAt: snapshots.endedAt })
      .from(snapshots)
      .where(and(eq(snapshots.sourceKey, key), lt(snapshots.endedAt, from)))
      .orderBy(desc(snapshots.endedAt))
      .limit(1)
      .all();
    const within = db()
      .select({ endedAt: snapshots.endedAt })
      .from(snapshots)
      .where(and(eq(snapshots.sourceKey, key), gte(snapshots.endedAt, from)))
      .orderBy(snapshots.endedAt)
      .all();
    const ends = [...before, ...within].map((r) => r.endedAt);
    const failed = db()
      .select({ at: jobs.endedAt })
      .from(jobs)
      .where(
        and(eq(jobs.sourceId, source.id), eq(jobs.kind, 'backup'), eq(jobs.status, 'failed'), gte(jobs.endedAt, from)),
      )
      .orderBy(desc(jobs.endedAt))
      .limit(MAX_MARKS)
      .all()
      .map(({ at }) => ({ at: at!, label: 'backup failed', kind: 'failed' as const }));
    return {
      name: source.name,
      targetMinutes: plan.rpoTargetMinutes,
      points: rpoSeries(ends, now).filter((p) => p.at >= from),
      marks: [...failed, ...failovers].sort((a, b) => a.at - b.at),
    };
  });
  const backups = db()
    .select()
    .from(snapshots)
    .where(gte(snapshots.endedAt, from))
    .orderBy(desc(snapshots.endedAt))
    .limit(MAX_BARS)
    .all()
    .reverse()
    .map((s) => ({
      at: s.endedAt,
      seconds: s.durationMs / 1000,
      detail: `${s.sourceKey}, ${formatBytes(s.newBytes)} new of ${formatBytes(s.bytes)}`,
    }));
  const restoreJobs = db()
    .select({ job: jobs, source: sources.name })
    .from(jobs)
    .leftJoin(sources, eq(sources.id, jobs.sourceId))
    .where(and(eq(jobs.kind, 'restore'), eq(jobs.status, 'succeeded'), gte(jobs.endedAt, from)))
    .orderBy(desc(jobs.endedAt))
    .limit(MAX_BARS)
    .all()
    .reverse();
  // RTO as measured, from every kind of recovery: restores, failovers (the gap through the endpoint) and drills.
  const restores = [
    ...restoreJobs.map(({ job, source }) => ({
      at: job.endedAt!,
      seconds: (job.endedAt! - job.startedAt!) / 1000,
      detail: `restore of ${source ?? 'a deleted source'}, verified`,
    })),
    ...db()
      .select({ event: failoverEvents, group: failoverGroups.name })
      .from(failoverEvents)
      .innerJoin(failoverGroups, eq(failoverGroups.id, failoverEvents.groupId))
      .where(and(eq(failoverEvents.ok, true), isNotNull(failoverEvents.rtoMs), gte(failoverEvents.createdAt, from)))
      .orderBy(desc(failoverEvents.id))
      .limit(MAX_BARS)
      .all()
      .map(({ event, group }) => ({
        at: event.createdAt,
        seconds: event.rtoMs! / 1000,
        detail: `${event.kind} of ${group}`,
      })),
    ...db()
      .select({ drill: drills, group: failoverGroups.name })
      .from(drills)
      .innerJoin(failoverGroups, eq(failoverGroups.id, drills.groupId))
      .where(and(eq(drills.ok, true), gte(drills.startedAt, from)))
      .orderBy(desc(drills.id))
      .limit(MAX_BARS)
      .all()
      .map(({ drill, group }) => ({
        at: drill.startedAt,
        seconds: drill.timeToReadyMs! / 1000,
        detail: `drill of ${group}, time to ready`,
      })),
  ]
    .sort((a, b) => a.at - b.at)
    .slice(-MAX_BARS);
  const lastRtoBySource: Record<number, number> = {};
  for (const { job } of restoreJobs) if (job.sourceId) lastRtoBySource[job.sourceId] = job.endedAt! - job.startedAt!;
  const failures = db()
    .select({ job: jobs, source: sources.name })
    .from(jobs)
    .leftJoin(sources, eq(sources.id, jobs.sourceId))
    .where(and(eq(jobs.status, 'failed'), gte(jobs.createdAt, now - DAY_MS)))
    .orderBy(desc(jobs.createdAt))
    .limit(5)
    .all()
    .map(({ job, source }) => ({
      at: job.endedAt ?? job.createdAt,
      what: `${job.kind} of ${source ?? 'a deleted source'}`,
      error: job.error,
    }));
  return { from, to: now, rpo, backups, restores, failures, lastRtoBySource };
}
