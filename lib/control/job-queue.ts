// Runs jobs one or two at a time, each as a `lifeline` child process, and records them: queued, running,
// succeeded, failed, cancelled, or interrupted (the server stopped while it ran).
import 'server-only';

import type { ChildProcess } from 'node:child_process';

import { and, asc, eq, inArray } from 'drizzle-orm';

import { db } from '../db/client';
import { jobs, sources, type Job, type Source } from '../db/schema';
import { publish } from './events';
import { notify } from './notify';
import { repositoryInfo } from './repository';
import { runCli } from './run-cli';
import { rememberSnapshot } from './snapshot-cache';

const MAX_RUNNING = 2;
/** Progress reaches the database at most this often; browsers get every event. */
const SAVE_PROGRESS_MS = 1000;

const holder = globalThis as unknown as { lifelineRunning?: Map<number, ChildProcess> };
const running = (holder.lifelineRunning ??= new Map());

export function sourceKeyOf(source: Pick<Source, 'node' | 'name'>): string {
  return `${source.node}:${source.name}`;
}

export function enqueueBackup(sourceId: number, requestedBy: string | null): Job {
  const job = db().insert(jobs).values({ kind: 'backup', sourceId, status: 'queued', requestedBy, createdAt: Date.now() }).returning().get();
  publish({ type: 'job', job });
  pump();
  return job;
}

/** Cancels a queued job at once, a running one by interrupting its process (which then exits cleanly). */
export function cancelJob(id: number): boolean {
  const job = db().select().from(jobs).where(eq(jobs.id, id)).get();
  if (!job) return false;
  if (job.status === 'queued') {
    finish(job.id, { status: 'cancelled', error: null });
    return true;
  }
  const child = running.get(id);
  if (job.status !== 'running' || !child) return false;
  child.kill('SIGINT');
  return true;
}

/** On start: nothing is running yet, whatever the table says. */
export function markInterrupted(): void {
  const stale = db().select().from(jobs).where(inArray(jobs.status, ['queued', 'running'])).all();
  for (const job of stale) finish(job.id, { status: 'interrupted', error: 'the server stopped while this job was pending' });
}

export function runningJobs(): Job[] {
  return db().select().from(jobs).where(inArray(jobs.status, ['queued', 'running'])).orderBy(asc(jobs.createdAt)).all();
}

function pump(): void {
  while (running.size < MAX_RUNNING) {
    const next = db().select().from(jobs).where(eq(jobs.status, 'queued')).orderBy(asc(jobs.id)).limit(1).get();
    if (!next) return;
    start(next);
  }
}

function start(job: Job): void {
  const repo = repositoryInfo();
  const source = job.sourceId ? db().select().from(sources).where(eq(sources.id, job.sourceId)).get() : undefined;
  if (!repo || !source) {
    finish(job.id, { status: 'failed', error: !repo ? 'no repository is configured' : 'the source was deleted' });
    return;
  }
  const args = ['backup', '--repo', repo.location, '--node', source.node, '--source', source.name, '--tag', `job-${job.id}`];
  for (const pattern of source.excludes.split('\n').map((p) => p.trim()).filter(Boolean)) args.push('--exclude', pattern);
  args.push(...(source.kind === 'sqlite' ? ['--sqlite', source.path] : [source.path]));
  const started = db().update(jobs).set({ status: 'running', startedAt: Date.now() }).where(eq(jobs.id, job.id)).returning().get();
  publish({ type: 'job', job: started });
  let lastSave = 0;
  const { child, done } = runCli(args, repo.passwordFile, (line) => {
    if (line.type !== 'progress') return;
    const progress = { filesDone: Number(line.filesDone), filesTotal: Number(line.filesTotal), bytesDone: Number(line.bytesDone), bytesTotal: Number(line.bytesTotal) };
    const now = Date.now();
    if (now - lastSave >= SAVE_PROGRESS_MS) {
      lastSave = now;
      db().update(jobs).set(progress).where(eq(jobs.id, job.id)).run();
    }
    publish({ type: 'job', job: { ...started, ...progress, rate: Number(line.rate), etaSeconds: line.etaSeconds } as Job });
  });
  running.set(job.id, child);
  void done.then(({ code, result, error }) => {
    running.delete(job.id);
    if ((code === 0 || code === 3) && result) {
      const summary = result.summary as { files: number; bytes: number; newBytes: number };
      rememberSnapshot({ id: String(result.id), time: String((result.summary as { startedAt: string }).startedAt), source: String(result.source), tags: [`job-${job.id}`], summary: result.summary as never });
      finish(job.id, { status: 'succeeded', snapshotId: String(result.id), newBytes: summary.newBytes, filesDone: summary.files, filesTotal: summary.files, bytesDone: summary.bytes, bytesTotal: summary.bytes, error: code === 3 ? 'some files were skipped' : null });
    } else if (code === 130) finish(job.id, { status: 'cancelled', error: null });
    else {
      const message = String(error?.message ?? `exit code ${code}`);
      finish(job.id, { status: 'failed', error: message });
      notify({ type: 'job-failed', job: job.id, source: source.name, error: message });
    }
    pump();
  });
}

function finish(id: number, values: Partial<Job> & Pick<Job, 'status'>): void {
  const job = db()
    .update(jobs)
    .set({ ...values, endedAt: Date.now() })
    .where(and(eq(jobs.id, id)))
    .returning()
    .get();
  if (job) publish({ type: 'job', job });
}
