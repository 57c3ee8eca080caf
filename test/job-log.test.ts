// 16.3 a job's page shows what the job did: its steps, the engine's phases, each skipped file with its path, and
// how it ended; a prune and a verify of the repository are jobs with pages like the others. Real jobs, run by the
// dashboard's queue as the CLI's child processes, on a real repository.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { addDirectorySource, runBackupJob } from './support/control-plane';
import { waitFor } from './support/wait';

process.env.LIFELINE_DATA_DIR = tempDir('job-log');

async function ended(id: number) {
  const { db } = await import('@/lib/db/client');
  const { jobs } = await import('@/lib/db/schema');
  const { eq } = await import('drizzle-orm');
  return waitFor(
    `job ${id} to end`,
    () => {
      const row = db().select().from(jobs).where(eq(jobs.id, id)).get();
      return row && !['queued', 'running'].includes(row.status) ? row : null;
    },
    60_000,
  );
}

describe('16.3 job pages', () => {
  beforeAll(async () => {
    const { ensureRepository } = await import('@/lib/control/repository');
    await ensureRepository();
  });

  it('16.3 a backup’s page lists its steps in order, the phase, the skipped file with its path, and how it ended; a viewer reads it too', async () => {
    const { jobPage } = await import('@/lib/control/job-page');
    const dir = path.join(tempDir('job-log-src'), 'files');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'report.txt'), 'the quarterly numbers\n');
    // A socket is never read, whoever runs the tests.
    const socket = net.createServer();
    await new Promise<void>((resolve) => socket.listen(path.join(dir, 'app.sock'), resolve));
    const source = await addDirectorySource('reports', dir, { keepLast: 1, preCommand: 'true' });
    const first = await runBackupJob(source.id);
    const job = await runBackupJob(source.id).finally(() => socket.close());
    expect(first.status).toBe('succeeded');
    expect(job.status).toBe('succeeded');

    const page = jobPage({ kind: 'job', id: job.id }, 'viewer');
    if (page?.kind !== 'job' || !page.log) throw new Error('no log for the job');
    expect(page.subject).toBe('reports');
    const lines = page.log.map((e) => [e.kind, e.message, e.path]);
    expect(lines.filter(([kind]) => kind === 'step').map(([, message]) => message)).toEqual([
      'Run the pre-backup command',
      `Back up ${dir}`,
      "Compare what the backup added with the source's earlier backups",
      'Apply the retention policy (keep the last 1)',
    ]);
    expect(lines).toContainEqual(['phase', 'saving the files that changed', null]);
    expect(lines).toContainEqual([
      'warning',
      'socket not backed up: special files are never read',
      path.join(dir, 'app.sock'),
    ]);
    expect(lines).toContainEqual(['info', '1 older snapshot forgotten', null]);
    const last = page.log.at(-1)!;
    expect(last.kind).toBe('warning');
    expect(last.message).toMatch(/^Succeeded after \d+\.\d s: 1 entry was skipped: /);
    // In the order they were written.
    expect(page.log.map((e) => e.id)).toEqual([...page.log.map((e) => e.id)].sort((a, b) => a - b));
  }, 120_000);

  it('16.3 a backup that skips more files than a log keeps lists the first of them and says how many there were', async () => {
    const { MAX_LOGGED_WARNINGS, jobLogOf } = await import('@/lib/control/job-log');
    const dir = path.join(tempDir('job-log-many'), 'sockets');
    mkdirSync(dir);
    // Sockets are never read: each is a warning.
    const count = MAX_LOGGED_WARNINGS + 40;
    const sockets = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(path.join(dir, `s-${i}.sock`), resolve));
        return server;
      }),
    );
    writeFileSync(path.join(dir, 'data.txt'), 'kept\n');
    const source = await addDirectorySource('sockets', dir);
    const job = await runBackupJob(source.id).finally(() => {
      for (const server of sockets) server.close();
    });
    expect(job.status, String(job.error)).toBe('succeeded');
    expect(job.error).toMatch(new RegExp(`^${count} entries were skipped`));
    const log = jobLogOf(job.id);
    expect(log.filter((e) => e.kind === 'warning' && e.path !== null)).toHaveLength(MAX_LOGGED_WARNINGS);
    expect(log.map((e) => e.message)).toContain(
      `${count} warnings in all; the first ${MAX_LOGGED_WARNINGS} are listed here (a backup's snapshot lists every skipped entry)`,
    );
  }, 120_000);

  it('16.3 a verify and a prune of the repository run as jobs: the verify reads data back and finds no error; the prune frees what forgotten snapshots held', async () => {
    const { enqueueRepositoryJob } = await import('@/lib/control/job-queue');
    const { jobPage } = await import('@/lib/control/job-page');
    const { jobLogOf } = await import('@/lib/control/job-log');
    const dir = path.join(tempDir('job-log-prune'), 'data');
    mkdirSync(dir);
    // Data that only the first snapshot holds: the retention forgets that one, and the prune frees its data.
    writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(3 << 20, 7));
    const source = await addDirectorySource('churn', dir, { keepLast: 1 });
    expect((await runBackupJob(source.id)).status).toBe('succeeded');
    writeFileSync(path.join(dir, 'big.bin'), 'small now\n');
    expect((await runBackupJob(source.id)).status).toBe('succeeded');

    const verify = await ended(enqueueRepositoryJob('verify', 'admin', { readDataPercent: 100 }).id);
    expect(verify.status).toBe('succeeded');
    expect(jobLogOf(verify.id).map((e) => e.message)).toContainEqual(
      expect.stringMatching(/^\d+ snapshots and \d+ packs checked, the data of \d+ packs read back$/),
    );

    const prune = await ended(enqueueRepositoryJob('prune', 'admin').id);
    expect(prune.status).toBe('succeeded');
    expect(prune.bytesDone).toBeGreaterThan(0);
    const page = jobPage({ kind: 'job', id: prune.id }, 'admin');
    if (page?.kind !== 'job' || !page.log) throw new Error('no log for the prune');
    expect(page.subject).toBe('the repository');
    expect(page.log.filter((e) => e.kind === 'step').map((e) => e.message)).toEqual([
      'Prune the repository: delete the data no snapshot uses, repack packs more than 10 % unused',
    ]);
    expect(page.log.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/^\d+ packs deleted, \d+ repacked: .+ freed$/),
    );

    // And the repository is still whole after it.
    const again = await ended(enqueueRepositoryJob('verify', 'admin', { readDataPercent: 100 }).id);
    expect(again.status).toBe('succeeded');
  }, 180_000);

  it('16.3 a restore’s page names its steps and that it was verified; a viewer sees its outcome, not its log or where it wrote', async () => {
    const { enqueueRestore } = await import('@/lib/control/job-queue');
    const { jobPage } = await import('@/lib/control/job-page');
    const dir = path.join(tempDir('job-log-restore'), 'docs');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.txt'), 'alpha\n');
    const source = await addDirectorySource('docs', dir);
    const backup = await runBackupJob(source.id);
    expect(backup.status).toBe('succeeded');
    const target = path.join(tempDir('job-log-restore-target'), 'out');
    const queued = enqueueRestore(
      source.id,
      { snapshot: backup.snapshotId!, target, include: [], inPlace: false },
      'admin',
    );
    const restore = await ended(queued.id);
    expect(restore.status).toBe('succeeded');
    const admin = jobPage({ kind: 'job', id: restore.id }, 'admin');
    if (admin?.kind !== 'job' || !admin.log) throw new Error('no log for the restore');
    expect(admin.log.filter((e) => e.kind === 'step').map((e) => e.message)).toEqual([
      `Restore everything from snapshot ${backup.snapshotId!.slice(0, 8)} into ${target}`,
    ]);
    expect(admin.log.map((e) => e.message)).toContain(
      'Verified: every restored file reads back as the snapshot holds it',
    );
    const viewer = jobPage({ kind: 'job', id: restore.id }, 'viewer');
    if (viewer?.kind !== 'job') throw new Error('no page for the restore');
    expect(viewer.job.status).toBe('succeeded');
    expect(viewer.log).toBeNull();
    expect(viewer.job.params).toBeNull();
  }, 120_000);

  it('16.3 a job page’s address names one job or nothing: a malformed or unknown one is not found', async () => {
    const { jobPage, parseJobRef } = await import('@/lib/control/job-page');
    for (const bad of [
      '0',
      '-1',
      '1.5',
      'abc',
      '1e3',
      'failover-',
      'drill-x',
      '99999999999999999999',
      ' 1',
      '01',
      '../1',
    ])
      expect(parseJobRef(bad), bad).toBeNull();
    expect(parseJobRef('12')).toEqual({ kind: 'job', id: 12 });
    expect(parseJobRef('failover-3')).toEqual({ kind: 'failover', id: 3 });
    expect(parseJobRef('drill-4')).toEqual({ kind: 'drill', id: 4 });
    expect(jobPage({ kind: 'job', id: 999_999 }, 'admin')).toBeNull();
    expect(jobPage({ kind: 'failover', id: 999_999 }, 'admin')).toBeNull();
    expect(jobPage({ kind: 'drill', id: 999_999 }, 'admin')).toBeNull();
  });
});
