// 17.3: after each backup, what it added is read from the repository (`lifeline stats SNAPSHOT`, in a child
// process) and judged against the source's earlier backups (lib/anomaly.ts). A flagged backup is logged on its job,
// notified, listed on the overview until an admin dismisses it, and the snapshot before it is held: retention does
// not remove it (`forget --hold`), since it may be the last one taken before the files were encrypted.
import 'server-only';

import { and, desc, eq, isNotNull, isNull, or } from 'drizzle-orm';

import { figuresOf, HISTORY, judge } from '../anomaly';
import { db } from '../db/client';
import { backupFigures, type BackupFiguresRow, type Job, sources } from '../db/schema';
import type { BackupFigures } from '../engine/stats/backup-figures';
import { runCli } from './run-cli';
import { notify } from './notify';

/** What `lifeline stats SNAPSHOT --json` answers. */
type StatsResult = BackupFigures;

/** Reads the backup's figures from the repository at `location`, judges them, and records both. Throws with the
 *  CLI's message if the figures cannot be read. */
export async function judgeBackup(
  job: Pick<Job, 'id'> | null,
  source: { id: number; name: string },
  snapshotId: string,
  location: string,
  passwordFile: string,
): Promise<BackupFiguresRow> {
  const { code, result, error } = await runCli(['stats', '--repo', location, snapshotId], passwordFile).done;
  if (code !== 0 || !result) throw new Error(String(error?.message ?? `lifeline stats exited with ${code}`));
  return recordFigures(job, source, result as unknown as StatsResult);
}

/** Judges figures against the source's usual backups (its latest HISTORY that are not flagged, or were dismissed;
 *  not its first, all of whose content is new by definition) and records them. */
export function recordFigures(
  job: Pick<Job, 'id'> | null,
  source: { id: number; name: string },
  stats: StatsResult,
  at = Date.now(),
): BackupFiguresRow {
  const usual = db()
    .select()
    .from(backupFigures)
    .where(
      and(
        eq(backupFigures.sourceId, source.id),
        isNotNull(backupFigures.previousId),
        or(eq(backupFigures.flagged, false), isNotNull(backupFigures.dismissedAt)),
      ),
    )
    .orderBy(desc(backupFigures.at), desc(backupFigures.id))
    .limit(HISTORY)
    .all()
    .reverse();
  const figures = figuresOf(stats);
  const verdict = judge(figures, usual);
  const row = db()
    .insert(backupFigures)
    .values({
      sourceId: source.id,
      jobId: job?.id ?? null,
      snapshotId: stats.snapshot,
      previousId: stats.previous,
      at,
      bytes: stats.bytes,
      newRawBytes: stats.newRawBytes,
      newStoredBytes: stats.newStoredBytes,
      newBlobs: stats.newBlobs,
      newRatio: figures.newRatio,
      compressionRatio: figures.compressionRatio,
      newRatioScore: verdict.newRatioScore,
      compressionScore: verdict.compressionScore,
      flagged: verdict.flagged,
      why: verdict.why,
    })
    .onConflictDoNothing()
    .returning()
    .get();
  // The same snapshot judged twice (a copy's job, a retry) keeps its first judgement.
  const recorded = row ?? db().select().from(backupFigures).where(eq(backupFigures.snapshotId, stats.snapshot)).get()!;
  if (row?.flagged)
    notify({
      type: 'backup-anomaly',
      source: source.name,
      job: job?.id ?? null,
      snapshot: row.snapshotId,
      why: row.why!,
    });
  return recorded;
}

export interface FlaggedBackup extends BackupFiguresRow {
  source: string;
}

/** Flagged backups no admin has dismissed, newest first. */
export function flaggedBackups(): FlaggedBackup[] {
  return db()
    .select({ f: backupFigures, source: sources.name })
    .from(backupFigures)
    .innerJoin(sources, eq(sources.id, backupFigures.sourceId))
    .where(and(eq(backupFigures.flagged, true), isNull(backupFigures.dismissedAt)))
    .orderBy(desc(backupFigures.at))
    .all()
    .map(({ f, source }) => ({ ...f, source }));
}

/** The figures recorded for a job's backup, if any. */
export function figuresOfJob(jobId: number): BackupFiguresRow | undefined {
  return db().select().from(backupFigures).where(eq(backupFigures.jobId, jobId)).get();
}

/** Snapshots retention must keep for the source: the one before each of its flagged backups not dismissed. */
export function heldSnapshots(sourceId: number): string[] {
  return db()
    .select({ id: backupFigures.previousId })
    .from(backupFigures)
    .where(
      and(
        eq(backupFigures.sourceId, sourceId),
        eq(backupFigures.flagged, true),
        isNull(backupFigures.dismissedAt),
        isNotNull(backupFigures.previousId),
      ),
    )
    .all()
    .map((r) => r.id!);
}

/** An admin found the flagged backup sound: it leaves the overview, counts as usual, and its hold ends. */
export function dismissFlag(id: number, by: string): BackupFiguresRow | undefined {
  return db()
    .update(backupFigures)
    .set({ dismissedBy: by, dismissedAt: Date.now() })
    .where(and(eq(backupFigures.id, id), eq(backupFigures.flagged, true), isNull(backupFigures.dismissedAt)))
    .returning()
    .get();
}
