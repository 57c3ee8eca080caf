// 17.3 in the dashboard: each backup job reads what it added from the repository and judges it. A ransomware run is
// flagged on its job's log, notified, listed until an admin dismisses it, and the snapshot before it survives the
// plan's retention until then. Real jobs run by the dashboard's queue, a real repository, a real webhook receiver.
import http from 'node:http';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cli, resultOf, tempDir } from './helpers';
import { addDirectorySource, runBackupJob } from './support/control-plane';
import { waitFor } from './support/wait';
import { encryptSome, workingDay, workingTree } from './support/working-tree';

process.env.LIFELINE_DATA_DIR = tempDir('anomaly-jobs');

const received: { type: string; [key: string]: unknown }[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    received.push(JSON.parse(body));
    res.end();
  });
});
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  const { ensureRepository } = await import('@/lib/control/repository');
  await ensureRepository();
});
afterAll(() => receiver.close());

describe('17.3 anomaly flags on backup jobs', () => {
  it('17.3 a ransomware run is flagged on its job, notified and listed; retention keeps the snapshot before it until an admin dismisses the flag', async () => {
    const { db } = await import('@/lib/db/client');
    const { notificationChannels } = await import('@/lib/db/schema');
    const { dismissFlag, figuresOfJob, flaggedBackups, heldSnapshots } = await import('@/lib/control/anomalies');
    const { jobLogOf } = await import('@/lib/control/job-log');
    const { repositoryInfo } = await import('@/lib/control/repository');
    const repo = repositoryInfo()!;
    // What the repository holds, as its own listing says.
    const ids = () => {
      const r = cli(['snapshots', '--repo', repo.location, '--password-file', repo.passwordFile, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return (resultOf(r).snapshots as { id: string; source: string }[])
        .filter((s) => s.source === 'local:project')
        .map((s) => s.id);
    };
    db()
      .insert(notificationChannels)
      .values({ kind: 'webhook', target: url, createdAt: Date.now(), allowPrivate: true })
      .run();
    const dir = path.join(tempDir('anomaly-jobs-src'), 'project');
    workingTree(dir);
    const source = await addDirectorySource('project', dir, { keepLast: 1 });

    // A first backup and five days of work: the usual.
    for (let day = 0; day <= 5; day++) {
      if (day > 0) workingDay(dir, day);
      const job = await runBackupJob(source.id);
      expect(job.status, job.error ?? '').toBe('succeeded');
      expect(figuresOfJob(job.id)?.flagged).toBe(false);
    }
    const before = ids();
    expect(before).toHaveLength(1);
    const lastGood = before[0];

    encryptSome(dir);
    const attacked = await runBackupJob(source.id);
    // The snapshot is a sound copy of what the files hold now: the job succeeds, and says what it found.
    expect(attacked.status).toBe('succeeded');
    const figures = figuresOfJob(attacked.id)!;
    expect(figures).toMatchObject({ flagged: true, previousId: lastGood, snapshotId: attacked.snapshotId });
    expect(figures.newRatioScore!).toBeGreaterThanOrEqual(4);
    const warning = jobLogOf(attacked.id).find((e) => e.kind === 'warning');
    expect(warning?.message).toMatch(/looks unlike the usual ones: .*of its content is new/);
    expect(flaggedBackups().map((f) => [f.source, f.snapshotId])).toEqual([['project', attacked.snapshotId]]);
    await waitFor('the anomaly to be notified', () => received.some((m) => m.type === 'backup-anomaly'), 30_000);
    expect(received.find((m) => m.type === 'backup-anomaly')).toMatchObject({
      source: 'project',
      job: attacked.id,
      snapshot: attacked.snapshotId,
    });

    // Keep-last 1 would leave the encrypted snapshot alone: the one before it is held, through later backups too.
    expect(heldSnapshots(source.id)).toEqual([lastGood]);
    expect(ids()).toEqual([lastGood, attacked.snapshotId]);
    workingDay(dir, 6);
    const after = await runBackupJob(source.id);
    expect(after.status).toBe('succeeded');
    expect(ids()).toEqual([lastGood, after.snapshotId]);

    // Dismissed: the flag leaves the list, the hold ends, and the next retention applies the plan as it is.
    expect(dismissFlag(figures.id, 'admin')?.dismissedBy).toBe('admin');
    expect(dismissFlag(figures.id, 'admin')).toBeUndefined();
    expect(flaggedBackups()).toEqual([]);
    expect(heldSnapshots(source.id)).toEqual([]);
    workingDay(dir, 7);
    const next = await runBackupJob(source.id);
    expect(next.status).toBe('succeeded');
    expect(ids()).toEqual([next.snapshotId]);
  });
});
