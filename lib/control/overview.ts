// What the overview shows per source: the age of its newest good snapshot against its RPO target.
import 'server-only';

import { desc, eq } from 'drizzle-orm';

import { db } from '../db/client';
import { snapshots, sources, type Source } from '../db/schema';
import { rpoStatus, type RpoStatus } from '../rpo';
import { sourceKeyOf } from './job-queue';
import { nextRun } from './scheduler';

export interface SourceHealth {
  source: Source;
  lastBackupAt: number | null;
  ageMs: number | null;
  status: RpoStatus;
  nextRunAt: number | null;
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
