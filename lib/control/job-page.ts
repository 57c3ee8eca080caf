// What a job's page shows. Every kind of job has one at /jobs/<ref>: a queued job (backup, restore, copy, prune,
// verify) by its number, a failover or switchover as failover-<n>, a drill as drill-<n>. Links to them are made
// here too (jobHref), so that lists and the Activity feed agree with the page.
import 'server-only';

import { eq } from 'drizzle-orm';

import { db } from '../db/client';
import {
  type BackupFiguresRow,
  copyRepositories,
  drills,
  failoverEvents,
  failoverGroups,
  jobs,
  sources,
  type Drill,
  type FailoverEvent,
  type Job,
  type JobLogEntry,
  type Role,
} from '../db/schema';
import { figuresOfJob } from './anomalies';
import { jobLogOf } from './job-log';
import { jobForRole, jobLogForRole } from './job-view';
import { nodeNames } from './node-registry';

export type JobRef = { kind: 'job'; id: number } | { kind: 'failover'; id: number } | { kind: 'drill'; id: number };

const MAX_ID = Number.MAX_SAFE_INTEGER;

/** The reference in a job page's address, or null where it names no job (the page then answers 404). */
export function parseJobRef(text: string): JobRef | null {
  const match = /^(?:(failover|drill)-)?([1-9][0-9]{0,15})$/.exec(text);
  if (!match) return null;
  const id = Number(match[2]);
  if (id > MAX_ID) return null;
  return { kind: (match[1] as 'failover' | 'drill' | undefined) ?? 'job', id };
}

export function jobHref(ref: JobRef): string {
  return `/jobs/${ref.kind === 'job' ? ref.id : `${ref.kind}-${ref.id}`}`;
}

export type JobPage =
  | {
      kind: 'job';
      job: Job;
      /** What the job was about: its source's name, or the repository for a prune or verify. */
      subject: string;
      copyTarget: string | null;
      /** Null where the role may not read it (a restore's, for a viewer). */
      log: JobLogEntry[] | null;
      /** A backup's: what it added, as the repository holds it, and how that was judged (17.3). */
      figures: BackupFiguresRow | null;
    }
  | { kind: 'failover'; event: FailoverEvent; group: string; from: string; to: string }
  | { kind: 'drill'; drill: Drill; group: string; node: string };

export function jobPage(ref: JobRef, role: Role): JobPage | null {
  if (ref.kind === 'job') {
    const row = db()
      .select({ job: jobs, source: sources.name })
      .from(jobs)
      .leftJoin(sources, eq(sources.id, jobs.sourceId))
      .where(eq(jobs.id, ref.id))
      .get();
    if (!row) return null;
    const job = jobForRole(row.job, role);
    const copyParams = row.job.kind === 'copy' ? (JSON.parse(row.job.params ?? '{}') as { repositoryId?: number }) : {};
    const copyTarget =
      copyParams.repositoryId === undefined
        ? null
        : (db()
            .select({ name: copyRepositories.name })
            .from(copyRepositories)
            .where(eq(copyRepositories.id, copyParams.repositoryId))
            .get()?.name ?? 'a removed repository');
    return {
      kind: 'job',
      job,
      subject:
        row.job.kind === 'prune' || row.job.kind === 'verify' ? 'the repository' : (row.source ?? 'a removed source'),
      copyTarget,
      log: jobLogForRole(row.job.kind, role) ? jobLogOf(ref.id) : null,
      figures: figuresOfJob(ref.id) ?? null,
    };
  }
  const names = nodeNames();
  const name = (id: string | null) => (id ? (names.get(id) ?? 'a removed node') : 'none');
  if (ref.kind === 'failover') {
    const row = db()
      .select({ event: failoverEvents, group: failoverGroups.name })
      .from(failoverEvents)
      .innerJoin(failoverGroups, eq(failoverGroups.id, failoverEvents.groupId))
      .where(eq(failoverEvents.id, ref.id))
      .get();
    return row ? { kind: 'failover', ...row, from: name(row.event.fromNodeId), to: name(row.event.toNodeId) } : null;
  }
  const row = db()
    .select({ drill: drills, group: failoverGroups.name })
    .from(drills)
    .innerJoin(failoverGroups, eq(failoverGroups.id, drills.groupId))
    .where(eq(drills.id, ref.id))
    .get();
  return row ? { kind: 'drill', ...row, node: name(row.drill.nodeId) } : null;
}
