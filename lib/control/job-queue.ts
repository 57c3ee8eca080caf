// Runs jobs one or two at a time, each as a `lifeline` child process (or, for a source on a registered node, as a
// job of that node's agent), and records them: queued, running, succeeded, failed, cancelled, or interrupted
// (the server stopped while it ran).
import 'server-only';

import { and, asc, eq, inArray } from 'drizzle-orm';

import { db } from '../db/client';
import { jobs, LOCAL_NODE, plans, sources, type Job, type Plan, type Source } from '../db/schema';
import { publish } from './events';
import { closeJobLog, logJob, logStep } from './job-log';
import { nodeBackupEnded } from './node-backup-watch';
import { notify } from './notify';
import { repositoryInfo, type RepositoryInfo } from './repository';
import { groupsWithNode, setMaintenance } from './failover';
import { runCli, type CliLine } from './run-cli';
import { runOnNode, type JobRun } from './run-on-node';
import { runHook } from '../engine/run-hook';
import { checkTarget, type TargetInspection } from '../engine/restore/target-check';
import { forgetSnapshots, rememberSnapshot } from './snapshot-cache';
import { checkNodeSnapshot } from './node-report';
import { nodeLocation } from './tenants';
import { copyRepository, recordCopy } from './copies';
import { repositoryCredentialsFile } from './s3-credentials';
import { formatBytes } from '../format';
import { heldSnapshots, judgeBackup } from './anomalies';
import { sampleRepositoryStats } from './repository-stats';

const MAX_RUNNING = 2;
/** Progress reaches the database at most this often; browsers get every event. */
const SAVE_PROGRESS_MS = 1000;

const holder = globalThis as unknown as { lifelineRunning?: Map<number, Pick<JobRun, 'cancel'>> };
holder.lifelineRunning ??= new Map();
const running = holder.lifelineRunning;
/** Jobs started and not finished (a job may be between two child processes, or in a hook). */
const active = new Set<number>();
const busySources = new Set<number>();
/** Copy jobs started and not finished (they run beside the others: pump). */
const activeCopies = new Set<number>();
/** Prunes and verifies of the repository started and not finished (one at a time, beside the others: pump). */
const activeChecks = new Set<number>();
const cancelRequested = new Set<number>();

/** A source with the plan it is protected under. */
type Protected = Source & { plan: Plan };

function protectedSource(id: number): Protected | undefined {
  const row = db()
    .select({ source: sources, plan: plans })
    .from(sources)
    .innerJoin(plans, eq(plans.id, sources.planId))
    .where(eq(sources.id, id))
    .get();
  return row ? { ...row.source, plan: row.plan } : undefined;
}

export function sourceKeyOf(source: Pick<Source, 'node' | 'name'>): string {
  return `${source.node}:${source.name}`;
}

/** Queues a backup of a source, unless one is queued already (five clicks on Back up now, or a schedule that fires
 *  while one waits): then that job is the answer, with `merged`. */
export function enqueueBackup(sourceId: number, requestedBy: string | null): Job & { merged?: true } {
  return enqueueOnce('backup', sourceId, requestedBy);
}

export interface CopyParams {
  repositoryId: number;
}

/** Queues a copy of a source's snapshots into a repository for copies, unless one is queued already. */
export function enqueueCopy(
  sourceId: number,
  repositoryId: number,
  requestedBy: string | null,
): Job & { merged?: true } {
  return enqueueOnce('copy', sourceId, requestedBy, JSON.stringify({ repositoryId } satisfies CopyParams));
}

/** Queues a job of `kind` for the source, or answers the one of that kind (and params) queued already. */
function enqueueOnce(
  kind: 'backup' | 'copy',
  sourceId: number,
  requestedBy: string | null,
  params?: string,
): Job & { merged?: true } {
  const same = and(
    eq(jobs.sourceId, sourceId),
    eq(jobs.kind, kind),
    eq(jobs.status, 'queued'),
    params === undefined ? undefined : eq(jobs.params, params),
  );
  const waiting = db().select().from(jobs).where(same).get();
  if (waiting) return { ...waiting, merged: true };
  return queue(kind, sourceId, requestedBy, params);
}

/** Adds a job to the queue, tells the pages, and starts what may start now. */
function queue(kind: Job['kind'], sourceId: number | null, requestedBy: string | null, params?: string): Job {
  const job = db()
    .insert(jobs)
    .values({ kind, sourceId, status: 'queued', requestedBy, createdAt: Date.now(), params })
    .returning()
    .get();
  publish({ type: 'job', job });
  pump();
  return job;
}

/** The job leaves the queue and runs. */
function markRunning(job: Job): Job {
  const started = db()
    .update(jobs)
    .set({ status: 'running', startedAt: Date.now() })
    .where(eq(jobs.id, job.id))
    .returning()
    .get();
  publish({ type: 'job', job: started });
  return started;
}

export interface RepositoryJobParams {
  /** Verify: the share of the data read back (0: the structure only). */
  readDataPercent?: number;
}

/** Queues a prune or a verify of the repository backups go to, unless one of that kind is queued already. */
export function enqueueRepositoryJob(
  kind: 'prune' | 'verify',
  requestedBy: string,
  params: RepositoryJobParams = {},
): Job & { merged?: true } {
  const waiting = db()
    .select()
    .from(jobs)
    .where(and(eq(jobs.kind, kind), eq(jobs.status, 'queued')))
    .get();
  if (waiting) return { ...waiting, merged: true };
  return queue(kind, null, requestedBy, JSON.stringify(params));
}

/** Whether a job of this source is queued or running. */
export function sourceBusy(sourceId: number): boolean {
  return (
    db()
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.sourceId, sourceId), inArray(jobs.status, ['queued', 'running'])))
      .get() !== undefined
  );
}

/** Cancels a queued job at once, a running one by interrupting its process (which then exits cleanly). */
export function cancelJob(id: number): boolean {
  const job = db().select().from(jobs).where(eq(jobs.id, id)).get();
  if (!job) return false;
  if (job.status === 'queued') {
    finish(job.id, { status: 'cancelled', error: null });
    return true;
  }
  if (job.status !== 'running' || !active.has(id)) return false;
  // Between two steps (a hook, a safety snapshot) there is no child to interrupt: the next step sees this.
  cancelRequested.add(id);
  running.get(id)?.cancel();
  return true;
}

/** On start: nothing is running yet, whatever the table says. */
export function markInterrupted(): void {
  const stale = db()
    .select()
    .from(jobs)
    .where(inArray(jobs.status, ['queued', 'running']))
    .all();
  for (const job of stale)
    finish(job.id, { status: 'interrupted', error: 'the server stopped while this job was pending' });
}

export function runningJobs(): Job[] {
  return db()
    .select()
    .from(jobs)
    .where(inArray(jobs.status, ['queued', 'running']))
    .orderBy(asc(jobs.createdAt))
    .all();
}

/** Starts queued jobs in order: backups and restores up to MAX_RUNNING, never two at once for one source; copies
 *  one at a time beside them (a first copy of a long history may take hours, and must not hold up backups or an
 *  urgent restore; it reads under a shared lock, as a backup writes under one). */
function pump(): void {
  for (const next of db().select().from(jobs).where(eq(jobs.status, 'queued')).orderBy(asc(jobs.id)).all()) {
    if (next.kind === 'copy') {
      if (activeCopies.size === 0) start(next);
      continue;
    }
    if (next.kind === 'prune' || next.kind === 'verify') {
      if (activeChecks.size === 0) startRepositoryJob(next);
      continue;
    }
    if (active.size - activeCopies.size - activeChecks.size >= MAX_RUNNING) continue;
    if (next.sourceId !== null && busySources.has(next.sourceId)) continue;
    start(next);
  }
}

export interface RestoreParams {
  snapshot: string;
  target: string;
  include: string[];
  inPlace: boolean;
  /** The user confirmed that files of the snapshot replace directories (the preview listed them). */
  replaceDirectories?: boolean;
  /** A restore elsewhere into a directory that holds files: an administrator confirmed it, and a safety snapshot
   *  of the directory is taken first. Otherwise the target must not exist or be empty, as the restore checks on the
   *  machine it runs on. */
  overwriteTarget?: boolean;
  safetySnapshot?: string;
  verified?: boolean;
}

export function enqueueRestore(sourceId: number, params: RestoreParams, requestedBy: string): Job {
  return queue('restore', sourceId, requestedBy, JSON.stringify(params));
}

/** A backup of the source, run where the source is: by the CLI here, or by the agent of its node. */
function backupRun(repo: RepositoryInfo, source: Protected, tag: string): (onLine: (line: CliLine) => void) => JobRun {
  const exclude = source.plan.excludes
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (source.node !== LOCAL_NODE) {
    const what = source.kind === 'sqlite' ? { paths: [], sqlite: [source.path] } : { paths: [source.path], sqlite: [] };
    const commands =
      tag === 'safety'
        ? {}
        : {
            preCommand: source.plan.preCommand,
            postCommand: source.plan.postCommand,
            commandTimeoutSeconds: source.plan.commandTimeoutSeconds,
          };
    return (onLine) =>
      runOnNode(
        source.node,
        { kind: 'backup', ...what, exclude, tags: [tag], sourceName: source.name, ...commands },
        onLine,
      );
  }
  // Copies of live databases are staged in the dashboard's own data directory, never in the temporary one.
  const args = ['backup', '--repo', repo.location, '--node', source.node, '--source', source.name, '--tag', tag];
  for (const pattern of exclude) args.push('--exclude', pattern);
  args.push(...(source.kind === 'sqlite' ? ['--sqlite', source.path] : [source.path]));
  return (onLine) => cliRun(args, repo, onLine);
}

function cliRun(args: string[], repo: RepositoryInfo, onLine: (line: CliLine) => void): JobRun {
  const { child, done } = runCli(args, repo.passwordFile, onLine);
  return { cancel: () => child.kill('SIGINT'), done };
}

function start(job: Job): void {
  const repo = repositoryInfo();
  const source = job.sourceId ? protectedSource(job.sourceId) : undefined;
  if (!repo || !source) {
    finish(job.id, { status: 'failed', error: !repo ? 'no repository is configured' : 'the source was deleted' });
    return;
  }
  const isCopy = job.kind === 'copy';
  // A copy runs in a lane of its own; backups and restores hold their source.
  const lane = isCopy ? activeCopies : busySources;
  const laneKey = isCopy ? job.id : source.id;
  void settle(job, source.name, lane, laneKey, (started) =>
    job.kind === 'restore'
      ? restoreJob(started, source, repo)
      : isCopy
        ? copyJob(started, source, repo)
        : backupJob(started, source, repo),
  ).then((outcome) => {
    if (job.kind === 'backup' && source.node !== LOCAL_NODE) nodeBackupEnded(source.node);
    // A plan that copies without a schedule of its own copies after each backup.
    if (job.kind === 'backup' && outcome.status === 'succeeded' && source.plan.copyRepositoryId !== null)
      if (source.plan.copySchedule === '') enqueueCopy(source.id, source.plan.copyRepositoryId, 'after backup');
    pump();
  });
}

type Outcome = Partial<Job> & Pick<Job, 'status'>;

/** A prune or verify of the repository: no source; prune takes the repository alone only for its final sweep, and
 *  verify holds a shared lock, so backups go on meanwhile. */
function startRepositoryJob(job: Job): void {
  const repo = repositoryInfo();
  if (!repo) {
    finish(job.id, { status: 'failed', error: 'no repository is configured' });
    return;
  }
  void settle(job, 'the repository', activeChecks, job.id, (started) =>
    job.kind === 'prune' ? pruneJob(started, repo) : verifyJob(started, repo),
  ).then((outcome) => {
    // What a prune freed shows in the statistics at once.
    if (job.kind === 'prune' && outcome.status === 'succeeded') void sampleRepositoryStats();
    pump();
  });
}

/** Runs a job in its lane, from running to its end: an error thrown is its failure, and a failure notifies. The
 *  outcome is recorded before the promise settles, so what follows (the next jobs) sees the job ended. */
function settle(
  job: Job,
  what: string,
  lane: Set<number>,
  laneKey: number,
  work: (started: Job) => Promise<Outcome>,
): Promise<Outcome> {
  const started = markRunning(job);
  active.add(job.id);
  lane.add(laneKey);
  return work(started)
    .catch((err) => ({ status: 'failed' as const, error: (err as Error).message }))
    .then((outcome) => {
      active.delete(job.id);
      lane.delete(laneKey);
      cancelRequested.delete(job.id);
      finish(job.id, outcome);
      if (outcome.status === 'failed')
        notify({ type: 'job-failed', job: job.id, source: what, error: String(outcome.error) });
      return outcome;
    });
}

async function pruneJob(job: Job, repo: RepositoryInfo): Promise<Outcome> {
  logStep(job, 'Prune the repository: delete the data no snapshot uses, repack packs more than 10 % unused');
  const run = await tracked(job, (onLine) => cliRun(['prune', '--repo', repo.location], repo, onLine));
  const { code, result, error } = run;
  if (code === 0 && result) {
    const r = result as unknown as { packsDeleted: number; packsRepacked: number; bytesDeleted: number };
    logJob(
      job,
      'info',
      `${r.packsDeleted} packs deleted, ${r.packsRepacked} repacked: ${formatBytes(r.bytesDeleted)} freed`,
    );
    return { status: 'succeeded', bytesDone: r.bytesDeleted, bytesTotal: r.bytesDeleted, error: null };
  }
  return wasCancelled(run)
    ? { status: 'cancelled', error: null }
    : { status: 'failed', error: String(error?.message ?? `exit code ${code}`) };
}

/** The most errors of one verify written to its log; the count says how many there were. */
const LOGGED_ERRORS = 100;

async function verifyJob(job: Job, repo: RepositoryInfo): Promise<Outcome> {
  const { readDataPercent = 0 } = JSON.parse(job.params ?? '{}') as RepositoryJobParams;
  const args = ['verify', '--repo', repo.location];
  if (readDataPercent > 0) args.push('--read-data-subset', `${readDataPercent}%`);
  logStep(
    job,
    `Verify the repository's structure${readDataPercent > 0 ? `, and read back ${readDataPercent} % of its data` : ''}`,
  );
  const run = await tracked(job, (onLine) => cliRun(args, repo, onLine));
  const { code, result, error } = run;
  if (result) {
    const r = result as unknown as { snapshots: number; packs: number; packsRead: number; errors: string[] };
    logJob(
      job,
      'info',
      `${r.snapshots} snapshots and ${r.packs} packs checked${r.packsRead ? `, the data of ${r.packsRead} packs read back` : ''}`,
    );
    for (const e of r.errors.slice(0, LOGGED_ERRORS)) logJob(job, 'error', e);
    if (r.errors.length === 0) return { status: 'succeeded', error: null };
    return { status: 'failed', error: `${r.errors.length} ${r.errors.length === 1 ? 'problem' : 'problems'} found` };
  }
  return wasCancelled(run)
    ? { status: 'cancelled', error: null }
    : { status: 'failed', error: String(error?.message ?? `exit code ${code}`) };
}

async function backupJob(job: Job, source: Protected, repo: RepositoryInfo): Promise<Outcome> {
  // A node's agent runs the plan's commands itself, around its backup (backupRun).
  const hook = (command: string) =>
    source.node === LOCAL_NODE
      ? runHook(command, source.plan.commandTimeoutSeconds)
      : Promise.resolve({ ok: true as const });
  if (source.node === LOCAL_NODE && source.plan.preCommand) logStep(job, 'Run the pre-backup command');
  const pre = await hook(source.plan.preCommand);
  const outcome: Outcome = !pre.ok
    ? { status: 'failed', error: `the pre-backup command failed, nothing was backed up: ${pre.message}` }
    : cancelRequested.has(job.id)
      ? { status: 'cancelled', error: null }
      : await backup(job, source, repo);
  // The post command runs whatever happened, even after a failed pre command: it is what resumes the application.
  if (source.node === LOCAL_NODE && source.plan.postCommand) logStep(job, 'Run the post-backup command');
  const post = await hook(source.plan.postCommand);
  if (outcome.snapshotId) await judgeSnapshot(job, source, repo, outcome.snapshotId);
  if (!post.ok && outcome.status === 'succeeded')
    return {
      ...outcome,
      status: 'failed',
      error: `the backup succeeded but the post-backup command failed: ${post.message}`,
    };
  if (outcome.status === 'succeeded' && (source.plan.keepLast > 0 || source.plan.keepDaily > 0))
    await applyRetention(job, source, repo);
  return outcome;
}

async function backup(job: Job, source: Protected, repo: RepositoryInfo): Promise<Outcome> {
  logStep(
    job,
    source.node === LOCAL_NODE
      ? `Back up ${source.path}`
      : `Back up ${source.path} on node ${source.node}, by its agent (with the plan's commands around it)`,
  );
  const run = await tracked(job, backupRun(repo, source, `job-${job.id}`));
  const { code, result, error } = run;
  if ((code === 0 || code === 3) && result) {
    let summary = result.summary as { files: number; bytes: number; newBytes: number; startedAt: string };
    if (source.node === LOCAL_NODE) {
      rememberSnapshot({
        id: String(result.id),
        time: summary.startedAt,
        source: String(result.source),
        tags: [`job-${job.id}`],
        summary: result.summary as never,
      });
    } else {
      // A node's report is checked against the repository; what is recorded is what the repository holds.
      logStep(job, `Check snapshot ${String(result.id).slice(0, 8)} against the repository`);
      const checked = await checkNodeSnapshot(result.id, {
        node: source.node,
        source: sourceKeyOf(source),
        tag: `job-${job.id}`,
        since: job.startedAt,
      });
      if (!checked.ok) return { status: 'failed', error: checked.error };
      rememberSnapshot(checked.snapshot, checked.repository);
      summary = checked.snapshot.summary;
    }
    const done = {
      snapshotId: String(result.id),
      newBytes: summary.newBytes,
      filesDone: summary.files,
      filesTotal: summary.files,
      bytesDone: summary.bytes,
      bytesTotal: summary.bytes,
    };
    // On a node, the agent ran the command after the backup: the snapshot is saved either way.
    if (typeof result.postCommandFailed === 'string')
      return {
        status: 'failed',
        ...done,
        error: `the backup succeeded but the post-backup command failed: ${result.postCommandFailed}`,
      };
    return { status: 'succeeded', ...done, error: code === 3 ? skippedMessage(result.warnings) : null };
  }
  return wasCancelled(run)
    ? { status: 'cancelled', error: null }
    : { status: 'failed', error: String(error?.message ?? `exit code ${code}`) };
}

/** Copies the source's snapshots that the repository for copies does not hold yet (`lifeline copy --source`), from
 *  the repository its backups go to: the control plane's, or its node's. */
async function copyJob(job: Job, source: Protected, repo: RepositoryInfo): Promise<Outcome> {
  const { repositoryId } = JSON.parse(job.params ?? '{}') as CopyParams;
  const target = copyRepository(repositoryId);
  if (!target) return { status: 'failed', error: 'the repository for copies was removed' };
  const from = source.node === LOCAL_NODE ? repo.location : nodeLocation(source.node);
  if (!from) return { status: 'failed', error: `node ${source.node} is not registered any more` };
  const key = sourceKeyOf(source);
  const args = ['copy', '--from-repo', from, '--repo', target.location, '--from-password-file', repo.passwordFile];
  const fromKeys = repositoryCredentialsFile();
  if (fromKeys) args.push('--from-s3-credentials', fromKeys);
  args.push('--source', key);
  logStep(job, `Copy the snapshots of ${source.name} that ${target.name} does not hold yet`);
  const run = await tracked(job, (onLine) => {
    const { child, done } = runCli(args, target.passwordFile, onLine, target.s3Credentials);
    return { cancel: () => child.kill('SIGINT'), done };
  });
  const { code, result, error } = run;
  if (code === 0 && result) {
    const held = (result.snapshots as { source: string; time: string; copied: boolean }[]).filter(
      (s) => s.source === key,
    );
    if (held.length > 0) recordCopy(target.id, key, Math.max(...held.map((s) => Date.parse(s.time))));
    const copied = held.filter((s) => s.copied).length;
    logJob(job, 'info', `${copied} of ${held.length} snapshots copied; the others were there already`);
    // The copies are kept by the plan's retention too (what a bucket's object lock still retains stays).
    let retention: string | null = null;
    if (source.plan.keepLast > 0 || source.plan.keepDaily > 0) {
      logStep(job, `Apply the retention policy to the copies (${retentionText(source.plan)})`);
      const forget = await runCli(
        forgetArgs(source, target.location, heldSnapshots(source.id)),
        target.passwordFile,
        undefined,
        target.s3Credentials,
      ).done;
      if (forget.code !== 0)
        retention = `copied, but the retention of the copies failed: ${String(forget.error?.message ?? forget.code)}`;
    }
    return {
      status: retention ? 'failed' : 'succeeded',
      filesDone: copied,
      filesTotal: held.length,
      newBytes: Number(result.newBytes),
      error: retention,
    };
  }
  return wasCancelled(run)
    ? { status: 'cancelled', error: null }
    : { status: 'failed', error: String(error?.message ?? `exit code ${code}`) };
}

/** What a backup that finished with skips says in its job: how many, and the first few (the snapshot has all). */
export function skippedMessage(warnings: unknown): string {
  const list = Array.isArray(warnings) ? warnings.map(String) : [];
  if (list.length === 0) return 'some entries were skipped';
  const shown = list.slice(0, 3).join('; ');
  return `${list.length} ${list.length === 1 ? 'entry was' : 'entries were'} skipped: ${shown}${list.length > 3 ? `; and ${list.length - 3} more, listed in the snapshot` : ''}`;
}

/** What a restore that set some entries only in part says in its job (an extended attribute the target refused). */
export function partlyRestoredMessage(warnings: unknown): string {
  const list = Array.isArray(warnings) ? warnings.map(String) : [];
  const shown = list.slice(0, 3).join('; ');
  return `restored, but ${list.length} ${list.length === 1 ? 'entry was' : 'entries were'} restored only in part: ${shown}${list.length > 3 ? `; and ${list.length - 3} more` : ''}`;
}

/** What the backup added, read from the repository, judged against the source's earlier backups (17.3). A backup
 *  that looks like ransomware at work is logged, notified and shown; it does not fail the job, whose snapshot is
 *  sound as a copy of what the files now hold. */
async function judgeSnapshot(job: Job, source: Protected, repo: RepositoryInfo, snapshotId: string): Promise<void> {
  const location = source.node === LOCAL_NODE ? repo.location : nodeLocation(source.node);
  if (!location) return;
  logStep(job, "Compare what the backup added with the source's earlier backups");
  try {
    const figures = await judgeBackup(job, source, snapshotId, location, repo.passwordFile);
    logJob(
      job,
      figures.flagged ? 'warning' : 'info',
      figures.flagged
        ? `This backup looks unlike the usual ones: ${figures.why}. The snapshot before it is kept until an admin dismisses this`
        : `${formatBytes(figures.newRawBytes)} of ${formatBytes(figures.bytes)} new (${(figures.newRatio * 100).toFixed(1)} %)${figures.compressionRatio === null ? '' : `, compressing ${figures.compressionRatio.toFixed(2)}×`}: within the usual`,
    );
  } catch (err) {
    logJob(job, 'warning', `What the backup added could not be read from the repository: ${(err as Error).message}`);
  }
}

/** `lifeline forget` of the source's snapshots in a repository, by its plan's retention policy; the snapshot before
 *  each flagged backup is held, whatever the policy says. */
function forgetArgs(source: Protected, location: string, hold: string[] = []): string[] {
  const args = ['forget', '--repo', location, '--source', sourceKeyOf(source)];
  if (source.plan.keepLast > 0) args.push('--keep-last', String(source.plan.keepLast));
  if (source.plan.keepDaily > 0) args.push('--keep-daily', String(source.plan.keepDaily));
  for (const id of hold) args.push('--hold', id);
  return args;
}

/** Forgets the source's snapshots its retention policy does not keep; prune reclaims their space later. */
async function applyRetention(job: Job, source: Protected, repo: RepositoryInfo): Promise<void> {
  const location = source.node === LOCAL_NODE ? repo.location : nodeLocation(source.node);
  if (!location) return;
  logStep(job, `Apply the retention policy (${retentionText(source.plan)})`);
  const held = heldSnapshots(source.id);
  const { code, result, error } = await runCli(forgetArgs(source, location, held), repo.passwordFile).done;
  if (code !== 0 || !result) {
    console.error(`retention of ${source.name} after job ${job.id} failed`);
    logJob(job, 'warning', `The retention policy was not applied: ${String(error?.message ?? `exit code ${code}`)}`);
    return;
  }
  const removed = result.removed as string[];
  forgetSnapshots(removed);
  logJob(job, 'info', `${removed.length} older ${removed.length === 1 ? 'snapshot' : 'snapshots'} forgotten`);
}

function retentionText(plan: Plan): string {
  const rules = [];
  if (plan.keepLast > 0) rules.push(`keep the last ${plan.keepLast}`);
  if (plan.keepDaily > 0) rules.push(`one a day for ${plan.keepDaily} days`);
  return rules.join(', ');
}

/** A restore in place first takes a safety snapshot of what it will overwrite, so it can be undone. On a node,
 *  its failover groups are in maintenance meanwhile: the agent stops the service for the restore, and that is
 *  not a failure to fail over from. */
async function restoreJob(job: Job, source: Protected, repo: RepositoryInfo): Promise<Outcome> {
  const params = JSON.parse(job.params ?? '{}') as RestoreParams;
  const held =
    params.inPlace && source.node !== LOCAL_NODE ? groupsWithNode(source.node).filter((g) => !g.maintenance) : [];
  for (const g of held) await setMaintenance(g.id, true);
  try {
    return await restoreSteps(job, source, repo, params);
  } finally {
    for (const g of held) await setMaintenance(g.id, false).catch((err) => console.error(err));
  }
}

async function restoreSteps(
  job: Job,
  source: Protected,
  repo: RepositoryInfo,
  params: RestoreParams,
): Promise<Outcome> {
  if (params.inPlace) {
    logStep(job, `Take a safety snapshot of ${source.path}, to undo the restore with`);
    const safety = await tracked(job, backupRun(repo, source, 'safety'));
    if (safety.code !== 0 && safety.code !== 3) {
      return wasCancelled(safety)
        ? { status: 'cancelled', error: null }
        : {
            status: 'failed',
            error: `the safety snapshot failed, nothing was restored: ${String(safety.error?.message ?? safety.code)}`,
          };
    }
    const s = safety.result!;
    if (source.node === LOCAL_NODE) {
      rememberSnapshot({
        id: String(s.id),
        time: (s.summary as { startedAt: string }).startedAt,
        source: String(s.source),
        tags: ['safety'],
        summary: s.summary as never,
      });
    } else {
      // The undo of this restore: it must be the node's snapshot of this source, taken now, not one it names.
      const checked = await checkNodeSnapshot(s.id, {
        node: source.node,
        source: sourceKeyOf(source),
        tag: 'safety',
        since: job.startedAt,
      });
      if (!checked.ok)
        return { status: 'failed', error: `the safety snapshot failed, nothing was restored: ${checked.error}` };
      rememberSnapshot(checked.snapshot, checked.repository);
    }
    params.safetySnapshot = String(s.id);
    if (cancelRequested.has(job.id)) return { status: 'cancelled', params: JSON.stringify(params), error: null };
  }
  if (!params.inPlace && params.overwriteTarget) {
    const safety = await targetSafetySnapshot(job, source, repo, params.target);
    if (!safety.ok) return { status: 'failed', params: JSON.stringify(params), error: safety.error };
    if (safety.id) params.safetySnapshot = safety.id;
    if (cancelRequested.has(job.id)) return { status: 'cancelled', params: JSON.stringify(params), error: null };
  }
  const target = params.inPlace ? '/' : params.target;
  logStep(
    job,
    `Restore ${params.include.length ? params.include.join(', ') : 'everything'} from snapshot ${params.snapshot.slice(0, 8)} ${params.inPlace ? 'in place' : `into ${params.target}`}${source.node === LOCAL_NODE ? '' : ` on node ${source.node}`}`,
  );
  // A restore elsewhere is judged again where it runs, on real paths: "/proc/self/root" is / in place.
  const targetRule = params.overwriteTarget ? 'elsewhere' : 'empty';
  const args = ['restore', '--repo', repo.location, params.snapshot, '--target', target];
  if (!params.inPlace) args.push('--target-must-be', targetRule);
  for (const p of params.include) args.push('--include', p);
  const replaceDirectories = params.replaceDirectories === true;
  if (replaceDirectories) args.push('--replace-directories');
  const run = await tracked(job, (onLine) =>
    source.node === LOCAL_NODE
      ? cliRun(args, repo, onLine)
      : runOnNode(
          source.node,
          {
            kind: 'restore',
            snapshot: params.snapshot,
            target,
            include: params.include,
            dryRun: false,
            replaceDirectories,
            ...(params.inPlace ? {} : { targetRule }),
          },
          onLine,
        ),
  );
  const { code, result, error } = run;
  if ((code === 0 || code === 3) && result) {
    params.verified = result.verified === true;
    if (params.verified) logJob(job, 'info', 'Verified: every restored file reads back as the snapshot holds it');
    return {
      status: 'succeeded',
      params: JSON.stringify(params),
      filesDone: Number(result.filesRestored),
      filesTotal: Number(result.filesRestored),
      bytesDone: Number(result.bytesRestored),
      bytesTotal: Number(result.bytesRestored),
      error: code === 3 ? partlyRestoredMessage(result.warnings) : null,
    };
  }
  return wasCancelled(run)
    ? { status: 'cancelled', params: JSON.stringify(params), error: null }
    : { status: 'failed', params: JSON.stringify(params), error: String(error?.message ?? `exit code ${code}`) };
}

/** Before an administrator's restore into a directory that holds files: a snapshot of that directory (source key
 *  `local:restore-target:job-N`, which no source's name can take), so what the restore overwrites can be had
 *  back. Only on the dashboard's machine: an
 *  agent backs up its configured sources only, so on a node such a restore is refused. */
async function targetSafetySnapshot(
  job: Job,
  source: Protected,
  repo: RepositoryInfo,
  target: string,
): Promise<{ ok: true; id?: string } | { ok: false; error: string }> {
  if (source.node !== LOCAL_NODE)
    return {
      ok: false,
      error:
        'a restore into a directory that holds files is offered on the dashboard’s own machine only (an agent cannot take a safety snapshot of it): restore into an empty directory on the node',
    };
  // The directory the restore will write into: a link in the path is followed, as the restore follows it.
  let found: TargetInspection;
  try {
    found = checkTarget(target, 'elsewhere');
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  if (found.state === 'absent') return { ok: true };
  logStep(job, `Take a safety snapshot of ${found.real}, which the restore overwrites`);
  const args = ['backup', '--repo', repo.location, '--node', LOCAL_NODE, '--source', `restore-target:job-${job.id}`];
  args.push('--tag', 'safety', '--tag', `job-${job.id}`, found.real);
  const run = await tracked(job, (onLine) => cliRun(args, repo, onLine));
  if ((run.code !== 0 && run.code !== 3) || !run.result)
    return {
      ok: false,
      error: `the safety snapshot of ${target} failed, nothing was restored: ${String(run.error?.message ?? run.code)}`,
    };
  const s = run.result;
  rememberSnapshot({
    id: String(s.id),
    time: (s.summary as { startedAt: string }).startedAt,
    source: String(s.source),
    tags: ['safety', `job-${job.id}`],
    summary: s.summary as never,
  });
  return { ok: true, id: String(s.id) };
}

/** A CLI interrupted so early that it had not yet set up its own handler dies of the signal: still a cancel. */
function wasCancelled(run: { code: number | null; signal: NodeJS.Signals | null }): boolean {
  return run.code === 130 || run.signal === 'SIGINT';
}

/** Runs one step of a job: progress to the browsers (and now and then to the database), cancellable. */
function tracked(job: Job, start: (onLine: (line: CliLine) => void) => JobRun) {
  let lastSave = 0;
  let warned = 0;
  const run = start((line) => {
    if (line.type === 'phase') logJob(job, 'phase', PHASES[String(line.phase)] ?? String(line.phase));
    if (line.type === 'warning') {
      warned++;
      logJob(job, 'warning', String(line.message), String(line.path));
    }
    if (line.type !== 'progress') return;
    const progress = {
      filesDone: Number(line.filesDone),
      filesTotal: Number(line.filesTotal),
      bytesDone: Number(line.bytesDone),
      bytesTotal: Number(line.bytesTotal),
    };
    const now = Date.now();
    if (now - lastSave >= SAVE_PROGRESS_MS) {
      lastSave = now;
      db().update(jobs).set(progress).where(eq(jobs.id, job.id)).run();
    }
    publish({ type: 'job', job: { ...job, ...progress, rate: Number(line.rate), etaSeconds: line.etaSeconds } as Job });
  });
  running.set(job.id, run);
  return run.done
    .then((outcome) => {
      // A node's agent reports its warnings with the result, not as they happen.
      const listed = outcome.result?.warnings;
      if (warned === 0 && Array.isArray(listed)) for (const w of listed) logJob(job, 'warning', String(w));
      return outcome;
    })
    .finally(() => running.delete(job.id));
}

/** The engine's phases (lib/engine/progress.ts), as a job's log names them. */
const PHASES: Record<string, string> = {
  save: 'saving the files that changed',
  plan: 'planning the restore',
  restore: 'writing the files',
  mark: 'marking the data snapshots still use',
  repack: 'repacking packs that are partly unused',
  sweep: 'deleting what no snapshot uses',
  structure: 'checking the structure',
  'read-data': 'reading the data back',
};

function finish(id: number, values: Partial<Job> & Pick<Job, 'status'>): void {
  const job = db()
    .update(jobs)
    .set({ ...values, endedAt: Date.now() })
    .where(and(eq(jobs.id, id)))
    .returning()
    .get();
  if (!job) return;
  closeJobLog(job);
  const took = job.startedAt === null ? '' : ` after ${((job.endedAt! - job.startedAt) / 1000).toFixed(1)} s`;
  if (job.status === 'succeeded')
    logJob(job, job.error ? 'warning' : 'info', `Succeeded${took}${job.error ? `: ${job.error}` : ''}`);
  else
    logJob(
      job,
      job.status === 'cancelled' ? 'info' : 'error',
      `${capitalized(job.status)}${took}${job.error ? `: ${job.error}` : ''}`,
    );
  publish({ type: 'job', job });
}

const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
