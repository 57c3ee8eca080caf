// Activity: every job and every recorded user action, newest first, filterable.
import 'server-only';

import { desc, eq } from 'drizzle-orm';

import { db } from '../db/client';
import { auditEvents, jobs, sources } from '../db/schema';

export const ACTIVITY_FILTERS = ['all', 'jobs', 'actions', 'failures'] as const;
export type ActivityFilter = (typeof ACTIVITY_FILTERS)[number];

export interface ActivityItem {
  at: number;
  kind: 'job' | 'action';
  who: string | null;
  what: string;
  ok: boolean;
  detail: string | null;
}

const LIMIT = 300;

export function activity(filter: ActivityFilter, text: string): ActivityItem[] {
  const items: ActivityItem[] = [];
  if (filter !== 'actions') {
    const rows = db()
      .select({ job: jobs, source: sources.name })
      .from(jobs)
      .leftJoin(sources, eq(sources.id, jobs.sourceId))
      .orderBy(desc(jobs.createdAt))
      .limit(LIMIT)
      .all();
    for (const { job, source } of rows) {
      items.push({
        at: job.endedAt ?? job.startedAt ?? job.createdAt,
        kind: 'job',
        who: job.requestedBy,
        what: `${job.kind} of ${source ?? 'a deleted source'}: ${job.status}`,
        ok: !['failed', 'interrupted'].includes(job.status),
        detail: job.error ?? (job.snapshotId ? `snapshot ${job.snapshotId.slice(0, 8)}` : null),
      });
    }
  }
  if (filter !== 'jobs') {
    for (const e of db().select().from(auditEvents).orderBy(desc(auditEvents.at)).limit(LIMIT).all()) {
      items.push({ at: e.at, kind: 'action', who: e.username, what: e.target ? `${e.action}: ${e.target}` : e.action, ok: e.ok, detail: e.detail });
    }
  }
  const needle = text.trim().toLowerCase();
  return items
    .filter((i) => (filter === 'failures' ? !i.ok : true))
    .filter((i) => !needle || `${i.who ?? ''} ${i.what} ${i.detail ?? ''}`.toLowerCase().includes(needle))
    .sort((a, b) => b.at - a.at)
    .slice(0, LIMIT);
}
