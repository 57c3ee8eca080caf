// A node whose backups keep failing (its agent down, its disk unreadable, its quota full) is said once: when the
// third backup in a row on that node fails, an alert goes out and the node's history and page show it; when one
// succeeds again, that is said too. Worked out from the jobs table alone, so it holds across restarts.
import 'server-only';

import { and, desc, eq, inArray } from 'drizzle-orm';

import { db } from '../db/client';
import { jobs, nodeEvents, nodes, sources } from '../db/schema';
import { notify } from './notify';

export const FAILURES_IN_A_ROW = 3;

/** The node's newest ended backups, newest first (cancelled ones say nothing about the node's health). */
function recentBackups(node: string, limit: number) {
  return db()
    .select({ status: jobs.status, error: jobs.error, endedAt: jobs.endedAt })
    .from(jobs)
    .innerJoin(sources, eq(jobs.sourceId, sources.id))
    .where(and(eq(sources.node, node), eq(jobs.kind, 'backup'), inArray(jobs.status, ['succeeded', 'failed'])))
    .orderBy(desc(jobs.endedAt), desc(jobs.id))
    .limit(limit)
    .all();
}

/** How many of the node's newest backups failed in a row, and the last error. */
export function nodeBackupStreak(node: string): { failures: number; lastError: string | null } {
  const recent = recentBackups(node, 50);
  const failures = recent.findIndex((j) => j.status !== 'failed');
  return { failures: failures === -1 ? recent.length : failures, lastError: recent[0]?.error ?? null };
}

/** Called when a backup on `node` has ended. */
export function nodeBackupEnded(node: string): void {
  const recent = recentBackups(node, FAILURES_IN_A_ROW + 1);
  const nodeId = db().select({ id: nodes.id }).from(nodes).where(eq(nodes.name, node)).get()?.id;
  const failedRun = (from: number) =>
    recent.length >= from + FAILURES_IN_A_ROW &&
    recent.slice(from, from + FAILURES_IN_A_ROW).every((j) => j.status === 'failed');
  const record = (kind: 'backups-failing' | 'backups-resumed', detail: string | null) => {
    if (nodeId) db().insert(nodeEvents).values({ nodeId, at: Date.now(), kind, detail }).run();
  };
  // Exactly the third failure in a row: said once, not at every failure after it.
  if (failedRun(0) && recent[FAILURES_IN_A_ROW]?.status !== 'failed') {
    const error = recent[0].error ?? 'unknown error';
    record('backups-failing', error);
    notify({ type: 'node-backups-failing', node, failures: FAILURES_IN_A_ROW, error });
  } else if (recent[0]?.status === 'succeeded' && failedRun(1)) {
    record('backups-resumed', null);
    notify({ type: 'node-backups-resumed', node });
  }
}
