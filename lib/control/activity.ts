// Activity: every job, every recorded user action and every failover and drill, newest first, filterable.
import 'server-only';

import { desc, eq } from 'drizzle-orm';

import { db } from '../db/client';
import { drills, failoverEvents, failoverGroups } from '../db/schema';
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

/** Items a page of the feed shows. */
export const ACTIVITY_PAGE = 100;
/** Failovers and drills are few (each a real event of a group): the feed reads at most this many of each. */
const EVENTS_READ = 5000;

export interface ActivityPage {
  items: ActivityItem[];
  /** How many items match, on every page. */
  total: number;
}

/** The text a needle is looked for in, as SQL builds it for a job: the same as its item's who, what and detail. */
const JOB_TEXT = `lower(coalesce(j.requested_by, '') || ' ' || j.kind || ' of ' ||
  CASE WHEN j.kind IN ('prune', 'verify') THEN 'the repository' ELSE coalesce(s.name, 'a deleted source') END ||
  ': ' || j.status || ' ' ||
  coalesce(j.error, CASE WHEN j.snapshot_id IS NULL THEN '' ELSE 'snapshot ' || substr(j.snapshot_id, 1, 8) END))`;
const ACTION_TEXT = `lower(coalesce(username, '') || ' ' || action ||
  CASE WHEN coalesce(target, '') = '' THEN '' ELSE ': ' || target END || ' ' || coalesce(detail, ''))`;
const JOB_AT = 'coalesce(j.ended_at, j.started_at, j.created_at)';

/** A needle for LIKE: its wildcards taken literally. */
const likeOf = (needle: string) => `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** One page (0-based) of the feed, newest first. Jobs and actions are paged in SQL: a page reads no more rows of
 *  each than the pages up to it hold, whatever the length of the history. */
export function activity(filter: ActivityFilter, text: string, page = 0): ActivityPage {
  const needle = text.trim().toLowerCase();
  const like = likeOf(needle);
  const upTo = (page + 1) * ACTIVITY_PAGE;
  const client = db().$client;
  const items: ActivityItem[] = [];
  let total = 0;
  if (filter === 'all' || filter === 'jobs' || filter === 'failures') {
    const where = `WHERE (? = '' OR ${JOB_TEXT} LIKE ? ESCAPE '\\')${filter === 'failures' ? " AND j.status IN ('failed', 'interrupted')" : ''}`;
    const from = 'FROM jobs j LEFT JOIN sources s ON s.id = j.source_id';
    total += (client.prepare(`SELECT count(*) AS n ${from} ${where}`).get(needle, like) as { n: number }).n;
    const rows = client
      .prepare(
        `SELECT j.id, j.kind, j.status, j.requested_by AS requestedBy, j.error, j.snapshot_id AS snapshotId,
                ${JOB_AT} AS at, s.name AS source
         ${from} ${where} ORDER BY ${JOB_AT} DESC, j.id DESC LIMIT ?`,
      )
      .all(needle, like, upTo) as {
      id: number;
      kind: string;
      status: string;
      requestedBy: string | null;
      error: string | null;
      snapshotId: string | null;
      at: number;
      source: string | null;
    }[];
    for (const job of rows)
      items.push({
        id: `job-${job.id}`,
        at: job.at,
        kind: 'job',
        who: job.requestedBy,
        what: `${job.kind} of ${job.kind === 'prune' || job.kind === 'verify' ? 'the repository' : (job.source ?? 'a deleted source')}: ${job.status}`,
        ok: !['failed', 'interrupted'].includes(job.status),
        detail: job.error ?? (job.snapshotId ? `snapshot ${job.snapshotId.slice(0, 8)}` : null),
        href: jobHref({ kind: 'job', id: job.id }),
      });
  }
  if (filter === 'all' || filter === 'failovers' || filter === 'failures') {
    const events = failovers()
      .filter((i) => (filter === 'failures' ? !i.ok : true))
      .filter((i) => !needle || `${i.who ?? ''} ${i.what} ${i.detail ?? ''}`.toLowerCase().includes(needle));
    total += events.length;
    items.push(...events.sort((a, b) => b.at - a.at).slice(0, upTo));
  }
  if (filter === 'all' || filter === 'actions' || filter === 'failures') {
    const where = `WHERE (? = '' OR ${ACTION_TEXT} LIKE ? ESCAPE '\\')${filter === 'failures' ? ' AND ok = 0' : ''}`;
    total += (client.prepare(`SELECT count(*) AS n FROM audit_events ${where}`).get(needle, like) as { n: number }).n;
    const actions = client
      .prepare(
        `SELECT id, at, username, action, target, ok, detail FROM audit_events ${where}
         ORDER BY at DESC, id DESC LIMIT ?`,
      )
      .all(needle, like, upTo) as {
      id: number;
      at: number;
      username: string | null;
      action: string;
      target: string | null;
      ok: number;
      detail: string | null;
    }[];
    for (const e of actions)
      items.push({
        id: `action-${e.id}`,
        at: e.at,
        kind: 'action',
        who: e.username,
        what: e.target ? `${e.action}: ${e.target}` : e.action,
        ok: e.ok === 1,
        detail: e.detail,
        href: null,
      });
  }
  items.sort((a, b) => b.at - a.at);
  return { items: items.slice(page * ACTIVITY_PAGE, upTo), total };
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
    .limit(EVENTS_READ)
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
    .limit(EVENTS_READ)
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
