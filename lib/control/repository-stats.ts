// 17.2: the repositories' sizes, deduplication and compression, per source, sampled by `lifeline stats` (a child
// process: it reads every snapshot's trees) every hour, after each prune, and when asked; kept over time for the
// growth chart on the Statistics page and for /metrics.
import 'server-only';

import { Cron } from 'croner';
import { and, asc, desc, eq, gte } from 'drizzle-orm';

import { db } from '../db/client';
import { nodes, repositoryStats, type RepositoryStatsRow } from '../db/schema';
import type { RepositoryStats, SourceStats } from '../engine/stats/repository-stats';
import { repositoryInfo } from './repository';
import { runCli } from './run-cli';
import { nodeRepositoryLocation } from './tenants';

/** Every hour, at a minute past the quarter so as not to meet the schedules that start on the hour. */
export const STATS_SCHEDULE = '17 * * * *';
export const DASHBOARD_REPOSITORY = 'dashboard';

const holder = globalThis as unknown as {
  lifelineStatsCron?: Cron;
  lifelineStatsRun?: Promise<SampleResult>;
  lifelineStatsLast?: { at: number; result: SampleResult };
};

export interface SampleResult {
  sampled: RepositoryStatsRow[];
  /** Repositories that could not be read, with why. */
  failed: { repository: string; error: string }[];
}

export function scheduleRepositoryStats(): void {
  holder.lifelineStatsCron?.stop();
  holder.lifelineStatsCron = new Cron(STATS_SCHEDULE, { protect: true }, () => {
    void sampleRepositoryStats();
  });
}

/** The repositories sampled: the dashboard's, and each registered node's own. */
function repositories(): { repository: string; location: string }[] {
  const repo = repositoryInfo();
  if (!repo) return [];
  return [
    { repository: DASHBOARD_REPOSITORY, location: repo.location },
    ...db()
      .select({ id: nodes.id, name: nodes.name })
      .from(nodes)
      .orderBy(asc(nodes.name))
      .all()
      .map((n) => ({ repository: `node:${n.name}`, location: nodeRepositoryLocation(n.id) })),
  ];
}

/** Samples every repository, one after the other; a sampling asked for while one runs gets that one's result, and
 *  so does one asked for within `reuseWithinMs` of the last (a user's clicks: each sampling reads every snapshot's
 *  trees). */
export function sampleRepositoryStats(reuseWithinMs = 0): Promise<SampleResult> {
  const last = holder.lifelineStatsLast;
  if (!holder.lifelineStatsRun && last && Date.now() - last.at < reuseWithinMs) return Promise.resolve(last.result);
  holder.lifelineStatsRun ??= sampleAll()
    .then((result) => {
      holder.lifelineStatsLast = { at: Date.now(), result };
      return result;
    })
    .finally(() => {
      holder.lifelineStatsRun = undefined;
    });
  return holder.lifelineStatsRun;
}

async function sampleAll(): Promise<SampleResult> {
  const out: SampleResult = { sampled: [], failed: [] };
  const repo = repositoryInfo();
  if (!repo) return out;
  for (const { repository, location } of repositories()) {
    const { code, result, error } = await runCli(['stats', '--repo', location], repo.passwordFile).done;
    if (code !== 0 || !result) {
      const why = String(error?.message ?? `exit code ${code}`);
      // A node registered but never backed up has no repository yet: nothing to sample.
      if (error?.code !== 'not-found') out.failed.push({ repository, error: why });
      continue;
    }
    const s = result as unknown as RepositoryStats;
    out.sampled.push(
      db()
        .insert(repositoryStats)
        .values({
          repository,
          at: Date.now(),
          snapshots: s.snapshots,
          packs: s.packs,
          packBytes: s.packBytes,
          logicalBytes: s.logicalBytes,
          rawBytes: s.rawBytes,
          storedBytes: s.storedBytes,
          sources: JSON.stringify(s.sources),
        })
        .returning()
        .get(),
    );
  }
  for (const f of out.failed) console.error(`statistics of repository ${f.repository} failed: ${f.error}`);
  return out;
}

export interface RepositoryFigures extends Omit<RepositoryStatsRow, 'sources'> {
  sources: SourceStats[];
  dedupRatio: number;
  compressionRatio: number;
}

function figuresOf(row: RepositoryStatsRow): RepositoryFigures {
  return {
    ...row,
    sources: JSON.parse(row.sources) as SourceStats[],
    dedupRatio: row.rawBytes > 0 ? row.logicalBytes / row.rawBytes : 1,
    compressionRatio: row.storedBytes > 0 ? row.rawBytes / row.storedBytes : 1,
  };
}

/** Each repository's latest sample, the dashboard's first. */
export function latestStats(): RepositoryFigures[] {
  const out: RepositoryFigures[] = [];
  for (const { repository } of repositories()) {
    const row = db()
      .select()
      .from(repositoryStats)
      .where(eq(repositoryStats.repository, repository))
      .orderBy(desc(repositoryStats.at), desc(repositoryStats.id))
      .get();
    if (row) out.push(figuresOf(row));
  }
  return out;
}

/** Whether the dashboard's repository was sampled within the last `ms`. */
export function statsSampledWithin(ms: number): boolean {
  return (
    db()
      .select({ id: repositoryStats.id })
      .from(repositoryStats)
      .where(and(eq(repositoryStats.repository, DASHBOARD_REPOSITORY), gte(repositoryStats.at, Date.now() - ms)))
      .get() !== undefined
  );
}

/** A repository's samples since `from`, oldest first: its growth. */
export function statsSince(repository: string, from: number): RepositoryFigures[] {
  return db()
    .select()
    .from(repositoryStats)
    .where(and(eq(repositoryStats.repository, repository), gte(repositoryStats.at, from)))
    .orderBy(asc(repositoryStats.at))
    .all()
    .map(figuresOf);
}
