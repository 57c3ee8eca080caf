// A DR drill's outcome, recorded once: the group's restore marked as tested, or an alert; live pages told. A drill
// on a group coordinated by the dashboard reports straight back; on etcd its member writes the result there
// (run/drills/<intention id>), and it is recorded whenever the dashboard reads it, also after a restart.
import 'server-only';

import { eq } from 'drizzle-orm';

import { db } from '../db/client';
import { drills, failoverGroups, nodes, type FailoverGroup } from '../db/schema';
import { publish } from './events';
import { notify } from './notify';

export interface DrillOutcome {
  nodeId: string;
  ok: boolean;
  snapshotId: string | null;
  dataTime: number | null;
  timeToReadyMs: number | null;
  error: string | null;
  startedAt: number;
  /** On etcd: the intention's id, which makes the record unique. */
  intentId?: string;
}

/** Records `outcome` for `group`; false when a drill of the same intention was recorded already. */
export function recordDrill(group: FailoverGroup, outcome: DrillOutcome): boolean {
  const row = db()
    .insert(drills)
    .values({
      groupId: group.id,
      nodeId: outcome.nodeId,
      ok: outcome.ok,
      snapshotId: outcome.snapshotId,
      dataTime: outcome.dataTime,
      timeToReadyMs: outcome.ok ? outcome.timeToReadyMs : null,
      error: outcome.error,
      startedAt: outcome.startedAt,
      intentId: outcome.intentId ?? null,
    })
    .onConflictDoNothing({ target: drills.intentId })
    .returning()
    .get();
  if (!row) return false;
  if (outcome.ok)
    db().update(failoverGroups).set({ restoreTestedAt: Date.now() }).where(eq(failoverGroups.id, group.id)).run();
  else
    notify({
      type: 'drill-failed',
      group: group.name,
      node: outcome.nodeId
        ? (db().select().from(nodes).where(eq(nodes.id, outcome.nodeId)).get()?.name ?? outcome.nodeId)
        : 'none',
      error: outcome.error ?? 'unknown',
    });
  publish({ type: 'drill', groupId: group.id, ok: outcome.ok });
  return true;
}
