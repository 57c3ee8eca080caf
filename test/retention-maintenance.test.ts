// 12.4: the dashboard's daily maintenance extends the retention of what young snapshots use, for a repository in
// an S3 bucket with object lock (a real radosgw), and audits it; for a repository without object lock it does
// nothing. The control plane on a real SQLite database in a temporary data directory.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { cli, tempDir } from './helpers';
import { radosgw, type S3Server, s3Env } from './support/radosgw';

process.env.LIFELINE_DATA_DIR = tempDir('retention-control');

let s3: S3Server;
beforeAll(async () => {
  s3 = await radosgw();
}, 300_000);

describe('12.4 the dashboard keeps the retention extended', () => {
  it('12.4 for the attached S3 repository with object lock, the daily step extends what young snapshots use and is audited; without object lock it does nothing', async () => {
    const { attachRepository } = await import('@/lib/control/repository');
    const { extendRepositoryRetention } = await import('@/lib/control/retention-maintenance');
    const { auditRecords } = await import('@/lib/control/audit');
    const keys = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    const src = path.join(tempDir('retention-src'), 'data');
    mkdirSync(src);
    writeFileSync(path.join(src, 'a.bin'), randomBytes(100_000));

    const plain = `s3:${s3.endpoint}/maintenance-plain-${process.pid}`;
    expect(cli(['init', '--repo', plain], s3Env(s3)).code).toBe(0);
    expect((await attachRepository(plain, 'correct horse battery staple', keys)).ok).toBe(true);
    expect(await extendRepositoryRetention()).toBeNull();

    const locked = `s3:${s3.endpoint}/maintenance-locked-${process.pid}`;
    const init = cli(
      ['init', '--repo', locked, '--object-lock-days', '1', '--object-lock-mode', 'compliance'],
      s3Env(s3),
    );
    expect(init.code, init.stderr).toBe(0);
    expect(cli(['backup', '--repo', locked, src], s3Env(s3)).code).toBe(0);
    expect((await attachRepository(locked, 'correct horse battery staple', keys)).ok).toBe(true);
    const r = await extendRepositoryRetention();
    expect(r?.ok, r?.detail).toBe(true);
    expect(r?.detail).toMatch(/^[1-9]\d* of \d+ objects kept until /);
    const last = auditRecords().at(-1)!;
    expect(last).toMatchObject({ action: 'extend retention', target: locked, ok: true });
  }, 180_000);
});
