// 10.4: input that a field's type and length let through but that must not get in, refused with a clear message.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { absolutePath, excludePatterns, hostName } from '@/lib/input';
import { tempDir } from './helpers';
import { waitFor } from './support/wait';

process.env.LIFELINE_DATA_DIR = tempDir('input-validation');

const refusal = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.success ? null : result.error!.issues[0].message;

describe('10.4 input that passes its type but not its meaning', () => {
  it('10.4 a cron expression with seconds or years is refused: it would queue a backup every second', async () => {
    const { isValidSchedule } = await import('@/lib/control/scheduler');
    expect(isValidSchedule('* * * * * *')).toBe(false);
    expect(isValidSchedule('*/1 * * * * *')).toBe(false);
    expect(isValidSchedule('0 0 3 * * * 2027')).toBe(false);
    expect(isValidSchedule('0 * * * *')).toBe(true);
    expect(isValidSchedule('  17 3 * * 0 ')).toBe(true);
  });

  it('10.4 paths and exclude patterns with NUL, control characters, right-to-left overrides or past 4096 bytes are refused', () => {
    expect(refusal(absolutePath.safeParse('/srv/app'))).toBeNull();
    expect(refusal(absolutePath.safeParse('/srv/dépôt/ファイル'))).toBeNull();
    for (const bad of ['/srv/a\0b', '/srv/a\nb', '/srv/\u202etxt.exe', '/srv/\u2066x', '/srv/\u0085'])
      expect(refusal(absolutePath.safeParse(bad)), JSON.stringify(bad)).toBe(
        'No control characters or right-to-left overrides',
      );
    expect(refusal(absolutePath.safeParse(`/${'a'.repeat(5000)}`))).toBe('At most 4096 bytes');
    expect(refusal(absolutePath.safeParse('relative/path'))).toBe('Give an absolute path, starting with /');
    expect(refusal(excludePatterns.safeParse('*.tmp\nnode_modules\r\ncache/'))).toBeNull();
    expect(refusal(excludePatterns.safeParse('*.tmp\n\u202egpj.exe'))).toBe(
      'No control characters or right-to-left overrides',
    );
    expect(refusal(excludePatterns.safeParse('x'.repeat(2000)))).toBe('A pattern is at most 1024 characters');
    expect(refusal(excludePatterns.safeParse(Array(201).fill('a').join('\n')))).toBe('At most 200 patterns');
  });

  it('10.4 a service host is a host name or an address, never shell text', () => {
    for (const good of ['127.0.0.1', 'db-1.internal', 'localhost', '::1', '[::1]', 'fe80::1'])
      expect(refusal(hostName.safeParse(good)), good).toBeNull();
    for (const bad of ['$(reboot)', 'a;b', 'host name', '`id`', '-flag', 'a..b', 'x'.repeat(300), ''])
      expect(refusal(hostName.safeParse(bad)), bad).not.toBeNull();
  });

  it('10.4 a failure shown on a page is its first line: no stack trace, no usage text', async () => {
    const { shown } = await import('@/lib/control/repository-queries');
    const error = new TypeError('Cannot read properties of undefined (reading "tree")');
    expect(shown(`unexpected failure: ${error.message}\n${error.stack}`, 'the preview failed')).toBe(
      'unexpected failure: Cannot read properties of undefined (reading "tree")',
    );
    expect(shown(undefined, 'the preview failed')).toBe('the preview failed');
  });

  it('10.4 Back up now clicked five times while a backup of the source runs queues one more job, not four', async () => {
    const { enqueueBackup } = await import('@/lib/control/job-queue');
    const { db } = await import('@/lib/db/client');
    const { jobs, plans, sources } = await import('@/lib/db/schema');
    const { eq, inArray } = await import('drizzle-orm');
    const { ensureRepository } = await import('@/lib/control/repository');
    await ensureRepository();
    const dir = path.join(tempDir('five-clicks'), 'data');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.txt'), 'a');
    const plan = db().insert(plans).values({ name: 'clicks', createdAt: Date.now() }).returning().get();
    const source = db()
      .insert(sources)
      .values({ planId: plan.id, name: 'clicks', kind: 'directory', path: dir, createdAt: Date.now() })
      .returning()
      .get();
    const clicks = Array.from({ length: 5 }, () => enqueueBackup(source.id, 'test'));
    const ids = [...new Set(clicks.map((j) => j.id))];
    expect(ids).toHaveLength(2);
    expect(clicks.filter((j) => j.merged).map((j) => j.id)).toEqual([ids[1], ids[1], ids[1]]);
    await waitFor(
      'both backups to end',
      () =>
        db()
          .select()
          .from(jobs)
          .where(inArray(jobs.id, ids))
          .all()
          .every((j) => ['succeeded', 'failed', 'cancelled'].includes(j.status)),
      60_000,
    );
    expect(db().select().from(jobs).where(eq(jobs.sourceId, source.id)).all()).toHaveLength(2);
  }, 90_000);
});
