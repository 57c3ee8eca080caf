// Activity: every job, every recorded user action and every failover and drill, newest first, filterable.
import 'server-only';

import { desc, eq } from 'drizzle-orm';

import { db } from '../db/client';
import { auditEvents, drills, failoverEvents, failoverGroups, jobs, sources } from '../db/schema';
import { jobHref } from './job-page';
import { nodeNames } from './node-registry';

export const ACTIVITY_FILTERS = ['all', 'jobs', 'actions', 'failovers', 'failures'] as const;
export type ActivityFilter = (typeof ACTIVITY_FILTERS)[number];

export interface ActivityItem {
  /** Unique across kinds: the list's key. */
  id: string;
  at: number;
  kind: 'job' | 'action' | 'failover';
  who: string | null;
  what: string;
  ok: boolean;
  detail: string | null;
  /** The page of the job, failover or drill (lib/control/job-page.ts); none for a user's action. */
  href: string | null;
}

const LIMIT = 300;

export function activity(filter: ActivityFilter, text: string): ActivityItem[] {
  const items: ActivityItem[] = [];
  if (filter === 'all' || filter === 'jobs' || filter === 'failures') {
    const rows = db()
      .select({ job: jobs, source: sources.name })
      .from(jobs)
      .leftJoin(sources, eq(sources.id, jobs.sourceId))
      .orderBy(desc(jobs.createdAt))
      .limit(LIMIT)
      .all();
    for (const { job, source } of rows) {
      items.push({
        id: `job-${job.id}`,
        at: job.endedAt ?? job.startedAt ?? job.createdAt,
        kind: 'job',
        who: job.requestedBy,
        what: `${job.kind} of ${job.kind === 'prune' || job.kind === 'verify' ? 'the repository' : (source ?? 'a deleted source')}: ${job.status}`,
        ok: !['failed', 'interrupted'].includes(job.status),
        detail: job.error ?? (job.snapshotId ? `snapshot ${job.snapshotId.slice(0, 8)}` : null),
        href: jobHref({ kind: 'job', id: job.id }),
      });
    }
  }
  if (filter === 'all' || filter === 'failovers' || filter === 'failures') items.push(...failovers());
  if (filter === 'all' || filter === 'actions' || filter === 'failures') {
    for (const e of db().select().from(auditEvents).orderBy(desc(auditEvents.at)).limit(LIMIT).all()) {
      items.push({
        id: `action-${e.id}`,
        at: e.at,
        kind: 'action',
        who: e.username,
        what: e.target ? `${e.action}: ${e.target}` : e.action,
        ok: e.ok,
        detail: e.detail,
        href: null,
      });
    }
  }
  const needle = text.trim().toLowerCase();
  return items
    .filter((i) => (filter === 'failures' ? !i.ok : true))
    .filter((i) => !needle || `${i.who ?? ''} ${i.what} ${i.detail ?? ''}`.toLowerCase().includes(needle))
    .sort((a, b) => b.at - a.at)
    .slice(0, LIMIT);
}

/** Failovers, switchovers and drills, as the activity feed lists them. */
function failovers(): ActivityItem[] {
  const names = nodeNames();
  const name = (id: string | null) => (id ? (names.get(id) ?? 'a removed node') : 'none');
  const events = db()
    .select({ e: failoverEvents, group: failoverGroups.name })
    .from(failoverEvents)
    .innerJoin(failoverGroups, eq(failoverGroups.id, failoverEvents.groupId))
    .orderBy(desc(failoverEvents.id))
    .limit(LIMIT)
    .all()
    .map(({ e, group }) => ({
      id: `failover-${e.id}`,
      at: e.createdAt,
      kind: 'failover' as const,
      who: null,
      what: `${e.kind} of ${group}: ${name(e.fromNodeId)} → ${name(e.toNodeId)}`,
      ok: e.ok,
      detail: e.ok
        ? e.rtoMs === null
          ? null
          : `RTO ${(e.rtoMs / 1000).toFixed(2)} s, RPO ${((e.rpoMs ?? 0) / 1000).toFixed(2)} s${e.lostWrites === null ? '' : `, ${e.lostWrites} writes lost`}`
        : e.error,
      href: jobHref({ kind: 'failover', id: e.id }),
    }));
  const drillRows = db()
    .select({ d: drills, group: failoverGroups.name })
    .from(drills)
    .innerJoin(failoverGroups, eq(failoverGroups.id, drills.groupId))
    .orderBy(desc(drills.id))
    .limit(LIMIT)
    .all()
    .map(({ d, group }) => ({
      id: `drill-${d.id}`,
      at: d.startedAt,
      kind: 'failover' as const,
      who: null,
      what: `DR drill of ${group} on ${name(d.nodeId)}`,
      ok: d.ok,
      detail: d.ok ? `ready in ${((d.timeToReadyMs ?? 0) / 1000).toFixed(2)} s` : d.error,
      href: jobHref({ kind: 'drill', id: d.id }),
    }));
  return [...events, ...drillRows];
}
