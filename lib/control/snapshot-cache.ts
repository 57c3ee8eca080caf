// Keeps the snapshots table in step with the repositories (the control plane's and each node's), which stay the
// source of truth.
import 'server-only';

import { inArray, like } from 'drizzle-orm';

import { db } from '../db/client';
import { snapshots } from '../db/schema';
import { publish } from './events';
import type { RepositoryInfo } from './repository';
import { runCli } from './run-cli';
import { listTenants, locationOf } from './tenants';

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

/** `repository`: the node repository's tenant path (tenants.ts), or null for the control plane's own. */
export function rememberSnapshot(s: CliSnapshot, repository: string | null = null): void {
  if (isShipped(s)) return;
  const row = {
    repository,
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

/** The location of the repository that holds a cached snapshot (by id or unique prefix): a node's own, or the
 *  control plane's. */
export function snapshotLocation(id: string): string {
  const rows = db()
    .select({ repository: snapshots.repository })
    .from(snapshots)
    .where(like(snapshots.id, `${id.replace(/[^0-9a-f]/g, '')}%`))
    .limit(2)
    .all();
  return locationOf(rows.length === 1 ? rows[0].repository : null);
}

export function forgetSnapshots(ids: string[]): void {
  if (ids.length > 0) db().delete(snapshots).where(inArray(snapshots.id, ids)).run();
}

/** Reads the snapshot lists of the control plane's repository and of every node's, and makes the cache match them.
 *  A repository that cannot be read leaves its rows as they are. */
export async function refreshSnapshots(repo: RepositoryInfo): Promise<void> {
  const repositories = [
    { path: null, location: repo.location },
    ...listTenants().filter((t) => t.tenant.kind === 'node'),
  ];
  const seen = new Set<string>();
  const unread: (string | null)[] = [];
  for (const r of repositories) {
    const { code, result } = await runCli(['snapshots', '--repo', r.location], repo.passwordFile).done;
    if (code !== 0 || !result) {
      unread.push(r.path);
      continue;
    }
    const list = (result.snapshots as CliSnapshot[]).filter((s) => !isShipped(s));
    for (const s of list) rememberSnapshot(s, r.path);
    for (const s of list) seen.add(s.id);
  }
  for (const row of db().select({ id: snapshots.id, repository: snapshots.repository }).from(snapshots).all())
    if (!seen.has(row.id) && !unread.includes(row.repository)) forgetSnapshots([row.id]);
}
