// 07.5: a backup that finished but skipped entries says so in the dashboard's job, with what it skipped.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { runBackupJob } from './support/control-plane';

process.env.LIFELINE_DATA_DIR = tempDir('job-skips');

describe('07.5 skips in the dashboard', () => {
  it('07.5 a backup job that skipped an entry succeeds and names the skip in its result', async () => {
    const { ensureRepository } = await import('@/lib/control/repository');
    const { db } = await import('@/lib/db/client');
    const { plans, sources } = await import('@/lib/db/schema');
    await ensureRepository();
    const dir = path.join(tempDir('job-skips-src'), 'files');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'report.txt'), 'the quarterly numbers\n');
    // A socket is never read, whoever runs the tests (root reads any unreadable file).
    const socket = net.createServer();
    await new Promise<void>((resolve) => socket.listen(path.join(dir, 'app.sock'), resolve));
    const plan = db().insert(plans).values({ name: 'skips', createdAt: Date.now() }).returning().get();
    const source = db()
      .insert(sources)
      .values({ planId: plan.id, name: 'files', kind: 'directory', path: dir, createdAt: Date.now() })
      .returning()
      .get();
    const job = await runBackupJob(source.id).finally(() => socket.close());
    expect(job.status).toBe('succeeded');
    expect(job.error).toBe(`1 entry was skipped: ${dir}/app.sock: socket not backed up: special files are never read`);
  }, 90_000);
});
