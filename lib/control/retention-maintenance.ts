// The dashboard's daily maintenance for a repository in an S3 bucket with object lock: `extend-retention`, so that
// every object a snapshot younger than the bucket's retention uses stays kept for that long again (docs/cli.md,
// "Repositories in S3"). Each run is audited; a failure is also logged. And a prune of the repository every week.
import 'server-only';

import { Cron } from 'croner';

import { isS3Location } from '../engine/repository/s3-storage';
import { audit } from './audit';
import { enqueueRepositoryJob } from './job-queue';
import { repositoryInfo, repositoryPlace } from './repository';
import { runCli } from './run-cli';

const holder = globalThis as unknown as { lifelineRetentionCron?: Cron; lifelinePruneCron?: Cron };

/** When the repository is pruned on its own: Sundays at 04:00 server time (Settings → Repository says so). */
export const PRUNE_SCHEDULE = '0 4 * * 0';

/** Daily at 03:30 server time (and never twice at once); and the weekly prune, as a job of the queue: retention
 *  forgets snapshots, and their data stays until a prune. */
export function scheduleRetentionMaintenance(): void {
  holder.lifelineRetentionCron?.stop();
  holder.lifelineRetentionCron = new Cron('30 3 * * *', { protect: true }, () => {
    void extendRepositoryRetention().catch((err) => console.error('extend-retention failed:', err));
  });
  holder.lifelinePruneCron?.stop();
  holder.lifelinePruneCron = new Cron(PRUNE_SCHEDULE, { protect: true }, () => {
    if (repositoryInfo()) enqueueRepositoryJob('prune', 'schedule');
  });
}

/** Runs extend-retention on the repository in use if its bucket has object lock; null where there is nothing to do
 *  (a directory, a bucket without object lock). */
export async function extendRepositoryRetention(): Promise<{ ok: boolean; detail: string } | null> {
  const repo = repositoryInfo();
  if (!repo || !isS3Location(repo.location)) return null;
  const place = await repositoryPlace(repo.location);
  if (!place.objectLock) return null;
  const { code, result, error } = await runCli(['extend-retention', '--repo', repo.location], repo.passwordFile).done;
  // Exit 3: a snapshot could not be read whole, so every pack was kept; done, but not ok (verify should be run).
  const ok = code === 0 && result !== null;
  const missing = (result?.missing as string[] | undefined) ?? [];
  const detail = result
    ? `${result.incomplete ? `${result.incomplete}; every pack kept: ` : ''}${result.extended} of ${result.objects} objects kept until ${result.until}${missing.length ? `; gone: ${missing.join(', ')}` : ''}`
    : String(error?.message ?? `exit code ${code}`);
  audit({ username: null, action: 'extend retention', target: repo.location, ok, detail });
  if (!ok) console.error(`extend-retention on ${repo.location} failed: ${detail}`);
  return { ok, detail };
}
