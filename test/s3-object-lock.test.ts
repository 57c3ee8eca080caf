// 12.4 and 12.7: a repository in an S3 bucket with object lock (compliance mode, on a throw-away radosgw). The
// attacker holds the same credentials as the dashboard: it deletes every object, with and without version ids,
// and overwrites some; `repair undelete --as-of T` then brings back every snapshot younger than the retention.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';

import { Repository } from '@/lib/engine/repository/repository';
import { S3Storage } from '@/lib/engine/repository/s3-storage';

import { cliAsync, type CliResult, describeTree, PASSWORD, resultOf, tempDir } from './helpers';
import { radosgw, type S3Server, s3Env } from './support/radosgw';
import { waitFor } from './support/wait';

let s3: S3Server;
let client: S3Client;
beforeAll(async () => {
  s3 = await radosgw();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}, 300_000);

const run = (args: string[]): Promise<CliResult> => cliAsync([...args, '--json'], s3Env(s3));
const runText = (args: string[]): Promise<CliResult> => cliAsync(args, s3Env(s3));

describe('12.4 object lock', () => {
  it('12.4 after every object is deleted (with and without version ids) and some overwritten with the same credentials, repair undelete --as-of brings back every snapshot younger than the retention', async () => {
    const bucket = `locked-${process.pid}`;
    const repo = `s3:${s3.endpoint}/${bucket}`;
    const init = await run(['init', '--repo', repo, '--object-lock-days', '1', '--object-lock-mode', 'compliance']);
    expect(init.code, init.stderr).toBe(0);
    expect(resultOf(init).objectLock).toEqual({ mode: 'compliance', days: 1 });

    const src = path.join(tempDir('locked-src'), 'data');
    mkdirSync(src);
    for (let i = 0; i < 10; i++) writeFileSync(path.join(src, `f${i}`), randomBytes(50_000));
    expect((await run(['backup', '--repo', repo, src])).code).toBe(0);
    writeFileSync(path.join(src, 'f0'), randomBytes(70_000));
    expect((await run(['backup', '--repo', repo, src])).code).toBe(0);
    const before = describeTree(src);

    // Forget and prune keep what the bucket retains, and say so.
    const forgot = await run(['forget', '--repo', repo, '--keep-last', '1', '--prune']);
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(resultOf(forgot).removed).toEqual([]);
    expect((resultOf(forgot).retained as unknown[]).length).toBe(1);
    expect((resultOf(await run(['snapshots', '--repo', repo])).snapshots as unknown[]).length).toBe(2);

    // The maintenance step extends what young snapshots use.
    const extended = await run(['extend-retention', '--repo', repo]);
    expect(extended.code, extended.stderr).toBe(0);
    expect(resultOf(extended).snapshots).toBe(2);
    expect(resultOf(extended).extended).toBeGreaterThan(0);

    const asOf = Date.now();
    await waitFor('the clock to pass the recovery point', () => Date.now() > asOf + 1_100, 5_000);

    // The attack, with the repository's own credentials.
    const versions = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    let refused = 0;
    for (const v of versions.Versions ?? []) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }));
      } catch (err) {
        if ((err as { name?: string }).name === 'AccessDenied') refused++;
      }
    }
    expect(refused).toBe((versions.Versions ?? []).length);
    const current = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (current.Contents ?? []).map((o) => o.Key!);
    for (const key of keys) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const overwritten = [
      'config',
      ...keys.filter((k) => k.startsWith('snapshots/') || k.startsWith('data/')).slice(0, 3),
    ];
    for (const key of overwritten)
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from('encrypted by ransomware') }),
      );
    const broken = await runText(['snapshots', '--repo', repo]);
    expect(broken.code).not.toBe(0);

    const undone = await run(['repair', 'undelete', '--repo', repo, '--as-of', new Date(asOf).toISOString()]);
    expect(undone.code, undone.stderr).toBe(0);
    expect(new Set(resultOf(undone).restored as string[])).toEqual(new Set(keys));

    const listed = await run(['snapshots', '--repo', repo]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((resultOf(listed).snapshots as unknown[]).length).toBe(2);
    const verified = await run(['verify', '--repo', repo, '--read-data']);
    expect(resultOf(verified).errors).toEqual([]);
    const target = tempDir('locked-target');
    expect((await run(['restore', '--repo', repo, 'latest', '--target', target])).code).toBe(0);
    expect(describeTree(path.join(target, src))).toEqual(before);
  }, 240_000);

  it('12.7 object lock asked of a bucket made without it is refused, naming why, and nothing is written', async () => {
    const bucket = `unlocked-${process.pid}`;
    const storage = new S3Storage(
      { endpoint: s3.endpoint, bucket, prefix: '' },
      { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
    );
    await storage.createLayout();
    const r = await runText(['init', '--repo', `s3:${s3.endpoint}/${bucket}`, '--object-lock-days', '7']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`S3 bucket ${bucket} at ${s3.endpoint} was created without object lock`);
    const objects = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(objects.KeyCount ?? 0).toBe(0);

    const local = await runText([
      'init',
      '--repo',
      path.join(tempDir('lock-local'), 'repo'),
      '--object-lock-days',
      '7',
    ]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('object lock needs a repository in an S3 bucket');
  }, 120_000);
});

describe('12.4 recovery and maintenance under damage', () => {
  const storageOf = (bucket: string, prefix = '') =>
    new S3Storage(
      { endpoint: s3.endpoint, bucket, prefix },
      { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
    );
  const src = () => {
    const dir = path.join(tempDir('damage-src'), 'data');
    mkdirSync(dir);
    for (let i = 0; i < 4; i++) writeFileSync(path.join(dir, `f${i}`), randomBytes(30_000));
    return dir;
  };

  it('12.4 repair undelete refuses a bucket that keeps no versions, and deletes nothing there', async () => {
    const bucket = `plain-${process.pid}`;
    const repo = `s3:${s3.endpoint}/${bucket}`;
    expect((await run(['init', '--repo', repo])).code).toBe(0);
    expect((await run(['backup', '--repo', repo, src()])).code).toBe(0);
    const asOf = new Date(Date.now() - 60_000).toISOString();
    const before = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const r = await runText(['repair', 'undelete', '--repo', repo, '--as-of', asOf]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('keeps no versions');
    const after = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(after.KeyCount).toBe(before.KeyCount);
  }, 120_000);

  it('12.4 repair undelete touches only its own repository in a shared bucket, and a second run changes nothing', async () => {
    const bucket = `shared-${process.pid}`;
    const root = `s3:${s3.endpoint}/${bucket}`;
    const other = `s3:${s3.endpoint}/${bucket}/other`;
    expect(
      (await run(['init', '--repo', root, '--object-lock-days', '1', '--object-lock-mode', 'compliance'])).code,
    ).toBe(0);
    expect((await run(['init', '--repo', other])).code).toBe(0);
    expect((await run(['backup', '--repo', root, src()])).code).toBe(0);
    const asOf = Date.now();
    await waitFor('the clock to pass the recovery point', () => Date.now() > asOf + 1_100, 5_000);
    // Written after T: the other repository's backup, which the root repository's recovery must leave alone.
    expect((await run(['backup', '--repo', other, src()])).code).toBe(0);
    const otherSnapshots = (await storageOf(bucket, 'other/').list('snapshots')).map((o) => o.name);
    expect(otherSnapshots.length).toBe(1);
    const rootKeys = (await storageOf(bucket).list('snapshots')).map((o) => `snapshots/${o.name}`);
    for (const key of rootKeys) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

    const first = await run(['repair', 'undelete', '--repo', root, '--as-of', new Date(asOf).toISOString()]);
    expect(first.code, first.stderr).toBe(0);
    expect(resultOf(first).restored).toEqual(rootKeys);
    expect(resultOf(first).hidden).toEqual([]);
    expect((await storageOf(bucket, 'other/').list('snapshots')).map((o) => o.name)).toEqual(otherSnapshots);
    const second = await run(['repair', 'undelete', '--repo', root, '--as-of', new Date(asOf).toISOString()]);
    expect(resultOf(second).restored).toEqual([]);
    expect(resultOf(second).hidden).toEqual([]);
  }, 180_000);

  it('12.4 extend-retention goes on past an object that was deleted, extends the rest and names what is missing', async () => {
    const bucket = `extend-${process.pid}`;
    const repo = `s3:${s3.endpoint}/${bucket}`;
    expect(
      (await run(['init', '--repo', repo, '--object-lock-days', '1', '--object-lock-mode', 'compliance'])).code,
    ).toBe(0);
    const dir = src();
    expect((await run(['backup', '--repo', repo, dir])).code).toBe(0);
    writeFileSync(path.join(dir, 'more'), randomBytes(20 << 20));
    expect((await run(['backup', '--repo', repo, dir])).code).toBe(0);
    // The largest pack holds file data (trees are small): with a tree pack gone the step could not know what is
    // used, and stops with that said.
    const packs = (await storageOf(bucket).list('data')).sort((a, b) => b.size - a.size).map((o) => o.name);
    expect(packs.length).toBeGreaterThan(1);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `data/${packs[0].slice(0, 2)}/${packs[0]}` }));
    const r = await run(['extend-retention', '--repo', repo]);
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r).missing).toEqual([`data/${packs[0]}`]);
    expect(resultOf(r).extended).toBe((resultOf(r).objects as number) - 1);
  }, 180_000);

  it('12.4 extend-retention with a tree gone cannot tell which packs are used: it extends every pack, says so, and exits 3', async () => {
    const bucket = `extend-tree-${process.pid}`;
    const repo = `s3:${s3.endpoint}/${bucket}`;
    expect(
      (await run(['init', '--repo', repo, '--object-lock-days', '1', '--object-lock-mode', 'compliance'])).code,
    ).toBe(0);
    const dir = src();
    expect((await run(['backup', '--repo', repo, dir])).code).toBe(0);
    writeFileSync(path.join(dir, 'more'), randomBytes(20 << 20));
    expect((await run(['backup', '--repo', repo, dir])).code).toBe(0);
    const opened = await Repository.open(storageOf(bucket), PASSWORD);
    await opened.loadIndex();
    const [first] = await opened.listSnapshots();
    const treePack = opened.index.get(first.tree)!.pack;
    const packs = (await storageOf(bucket).list('data')).map((o) => o.name);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `data/${treePack.slice(0, 2)}/${treePack}` }));
    const r = await run(['extend-retention', '--repo', repo]);
    expect(r.code, r.stderr).toBe(3);
    const result = resultOf(r);
    // The gone pack is named; it is no longer listed, so it is not among the objects looked at.
    expect(result.incomplete).toContain(`data/${treePack} is missing`);
    expect(result.missing).toEqual([]);
    // Every object of the repository was looked at, every pack among them, used or not, and each is kept for the
    // retention again (the bucket may keep the date to the second).
    const storage = storageOf(bucket);
    const keys = (await storage.list('keys')).length;
    const indexFiles = (await storage.list('index')).length;
    expect(result.objects).toBe(1 + keys + indexFiles + 2 + packs.length - 1);
    expect(result.extended).toBe(result.objects);
    const until = Date.parse(result.until as string);
    for (const pack of packs.filter((p) => p !== treePack))
      expect(await storage.retainedUntil(`data/${pack}`)).toBeGreaterThan(until - 1000);
  }, 180_000);

  it('12.7 a second repository in a bucket with object lock may not weaken its retention for the first', async () => {
    const bucket = `weaken-${process.pid}`;
    const first = await run([
      'init',
      '--repo',
      `s3:${s3.endpoint}/${bucket}/a`,
      '--object-lock-days',
      '2',
      '--object-lock-mode',
      'compliance',
    ]);
    expect(first.code, first.stderr).toBe(0);
    for (const [days, mode] of [
      ['1', 'compliance'],
      ['2', 'governance'],
    ]) {
      const r = await runText([
        'init',
        '--repo',
        `s3:${s3.endpoint}/${bucket}/b`,
        '--object-lock-days',
        days,
        '--object-lock-mode',
        mode,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('may not weaken that for the others');
    }
    expect(await storageOf(bucket, 'b/').list('keys')).toEqual([]);
    const same = await run([
      'init',
      '--repo',
      `s3:${s3.endpoint}/${bucket}/b`,
      '--object-lock-days',
      '2',
      '--object-lock-mode',
      'compliance',
    ]);
    expect(same.code, same.stderr).toBe(0);
  }, 120_000);
});
