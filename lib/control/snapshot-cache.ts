// Keeps the snapshots table in step with the repository, which stays the source of truth.
import 'server-only';

import { inArray, notInArray } from 'drizzle-orm';

import { db } from '../db/client';
import { snapshots } from '../db/schema';
import { publish } from './events';
import type { RepositoryInfo } from './repository';
import { runCli } from './run-cli';

interface CliSnapshot {
  id: string;
  time: string;
  source: string;
  tags: string[];
  summary: { files: number; bytes: number; newBytes: number; durationMs: number; skipped: number; endedAt: string };
}

/** Warm-standby shipping writes a snapshot every few seconds: those are the failover groups' business, kept
 *  out of the snapshot list (and trimmed in the repository by ship retention). */
function isShipped(s: CliSnapshot): boolean {
  return s.source.startsWith('ship:');
}

export function rememberSnapshot(s: CliSnapshot): void {
  if (isShipped(s)) return;
  const row = {
    id: s.id,
    sourceKey: s.source,
    time: Date.parse(s.time),
    endedAt: Date.parse(s.summary.endedAt),
    files: s.summary.files,
    bytes: s.summary.bytes,
    newBytes: s.summary.newBytes,
    durationMs: s.summary.durationMs,
    skipped: s.summary.skipped,
    tags: s.tags.join(','),
  };
  db().insert(snapshots).values(row).onConflictDoUpdate({ target: snapshots.id, set: row }).run();
  publish({ type: 'snapshot', sourceKey: s.source, id: s.id });
}

export function forgetSnapshots(ids: string[]): void {
  if (ids.length > 0) db().delete(snapshots).where(inArray(snapshots.id, ids)).run();
}

/** Reads the repository's snapshot list and makes the cache match it. */
export async function refreshSnapshots(repo: RepositoryInfo): Promise<void> {
  const { code, result } = await runCli(['snapshots', '--repo', repo.location], repo.passwordFile).done;
  if (code !== 0 || !result) return;
  const list = (result.snapshots as CliSnapshot[]).filter((s) => !isShipped(s));
  for (const s of list) rememberSnapshot(s);
  db()
    .delete(snapshots)
    .where(notInArray(snapshots.id, list.length ? list.map((s) => s.id) : ['']))
    .run();
}
