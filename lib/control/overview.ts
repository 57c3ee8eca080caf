// What the overview shows per source: the age of its newest good snapshot against its RPO target.
import 'server-only';

import { desc, eq } from 'drizzle-orm';

import { db } from '../db/client';
import { snapshots, sources, type Source } from '../db/schema';
import { sourceKeyOf } from './job-queue';
import { nextRun } from './scheduler';

export type RpoStatus = 'ok' | 'warning' | 'breached' | 'none';

export interface SourceHealth {
  source: Source;
  lastBackupAt: number | null;
  ageMs: number | null;
  status: RpoStatus;
  nextRunAt: number | null;
}

/** Green within the target, amber past 80 % of it, red past it (DESIGN.md: backup RPO). */
export function rpoStatus(ageMs: number | null, targetMinutes: number): RpoStatus {
  if (ageMs === null) return 'none';
  const target = targetMinutes * 60_000;
  if (ageMs > target) return 'breached';
  if (ageMs > 0.8 * target) return 'warning';
  return 'ok';
}

export function sourceHealth(now = Date.now()): SourceHealth[] {
  return db()
    .select()
    .from(sources)
    .orderBy(sources.name)
    .all()
    .map((source) => {
      const newest = db().select({ endedAt: snapshots.endedAt }).from(snapshots).where(eq(snapshots.sourceKey, sourceKeyOf(source))).orderBy(desc(snapshots.endedAt)).limit(1).get();
      const lastBackupAt = newest?.endedAt ?? null;
      const ageMs = lastBackupAt === null ? null : Math.max(0, now - lastBackupAt);
      return { source, lastBackupAt, ageMs, status: rpoStatus(ageMs, source.rpoTargetMinutes), nextRunAt: nextRun(source.id)?.getTime() ?? null };
    });
}
