// 12.1 and 12.7: the CLI on a repository in an S3 bucket of a real radosgw, from init to prune, and each way an
// S3 location can be wrong, each a clear error that names the cause, with nothing written.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

import { beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '@/lib/engine/free-port';
import { runRestore } from '@/lib/engine';
import { Repository } from '@/lib/engine/repository/repository';
import { parseS3Location, S3Storage } from '@/lib/engine/repository/s3-storage';

import { cliAsync, type CliResult, describeTree, PASSWORD, resultOf, tempDir } from './helpers';
import { radosgw, type S3Server, s3Env } from './support/radosgw';

let s3: S3Server;
let bucketSeq = 0;
const bucketName = () => `cli-${process.pid}-${bucketSeq++}`;

beforeAll(async () => {
  s3 = await radosgw();
}, 300_000);

const run = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> =>
  cliAsync([...args, '--json'], { ...s3Env(s3), ...env });
/** As a user at a terminal runs it: a failure is one line on stderr. */
const runText = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> =>
  cliAsync(args, { ...s3Env(s3), ...env });

function objectsIn(bucket: string): Promise<number> {
  const storage = new S3Storage(
    { endpoint: s3.endpoint, bucket, prefix: '' },
    { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
  );
  return Promise.all(['keys', 'data', 'index', 'snapshots', 'locks'].map((k) => storage.list(k as 'keys'))).then(
    (lists) => lists.flat().length,
  );
}

describe('12.1 a repository in an S3 bucket', () => {
  it('12.1 init, backup, an unchanged re-backup, restore, verify, keys, forget and prune all work on S3', async () => {
    const repo = `s3:${s3.endpoint}/${bucketName()}/backups/app`;
    const src = path.join(tempDir('s3-src'), 'data');
    mkdirSync(path.join(src, 'nested'), { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(path.join(src, 'nested', `file${i}.txt`), `line ${i}\n`.repeat(200 * i));
    writeFileSync(path.join(src, 'random.bin'), randomBytes(20 << 20));

    const init = await run(['init', '--repo', repo]);
    expect(init.code, init.stderr).toBe(0);
    expect(resultOf(init).repository).toBe(repo);

    const first = await run(['backup', '--repo', repo, src]);
    expect(first.code, first.stderr).toBe(0);
    const again = await run(['backup', '--repo', repo, src]);
    expect(again.code, again.stderr).toBe(0);
    expect((resultOf(again).summary as { filesRead: number }).filesRead).toBe(0);

    const target = tempDir('s3-target');
    const restored = await run(['restore', '--repo', repo, 'latest', '--target', target]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));

    const verified = await run(['verify', '--repo', repo, '--read-data']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(resultOf(verified).errors).toEqual([]);

    const newPass = path.join(tempDir('s3-key'), 'pass');
    writeFileSync(newPass, 'a second passphrase', { mode: 0o600 });
    expect((await run(['key', 'add', '--repo', repo, '--new-password-file', newPass])).code).toBe(0);
    const withSecond = await run(['snapshots', '--repo', repo], { LIFELINE_PASSWORD: 'a second passphrase' });
    expect(withSecond.code, withSecond.stderr).toBe(0);
    expect((resultOf(withSecond).snapshots as unknown[]).length).toBe(2);

    // One small file restored alone: only the part of its pack that holds it is read (16 MiB packs here).
    const opened = await Repository.open(
      new S3Storage(parseS3Location(repo), {
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      }),
      PASSWORD,
    );
    const one = path.join(src, 'nested', 'file7.txt');
    const partial = tempDir('s3-partial');
    await runRestore(opened, { snapshot: await opened.resolveSnapshot('latest'), target: partial, include: [one] });
    expect(readFileSync(path.join(partial, one)).equals(readFileSync(one))).toBe(true);
    expect((opened.storage as S3Storage).bytesRead.get('data')).toBeLessThan(64 * 1024);

    const forgot = await run(['forget', '--repo', repo, '--keep-last', '1', '--prune']);
    expect(forgot.code, forgot.stderr).toBe(0);
    const left = await run(['snapshots', '--repo', repo]);
    expect((resultOf(left).snapshots as unknown[]).length).toBe(1);
    const after = await run(['verify', '--repo', repo, '--read-data']);
    expect(resultOf(after).errors).toEqual([]);
    const target2 = tempDir('s3-target2');
    expect((await run(['restore', '--repo', repo, 'latest', '--target', target2])).code).toBe(0);
    expect(describeTree(path.join(target2, src))).toEqual(describeTree(src));
  }, 180_000);
});

describe('12.3 copies out of a bucket reached with keys of its own', () => {
  it('12.3 copy --from-s3-credentials reads the source bucket with the keys in that file, with none in the environment; a file without keys is refused and nothing is copied', async () => {
    const from = `s3:${s3.endpoint}/${bucketName()}`;
    const src = path.join(tempDir('s3-copy-src'), 'data');
    mkdirSync(src);
    writeFileSync(path.join(src, 'a.bin'), randomBytes(200_000));
    expect((await run(['init', '--repo', from])).code).toBe(0);
    expect((await run(['backup', '--repo', from, '--source', 'app', src])).code).toBe(0);
    const to = path.join(tempDir('s3-copy-to'), 'repo');
    const noKeys = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_CONFIG_FILE: '/dev/null' };
    expect((await cliAsync(['init', '--repo', to, '--json'], noKeys)).code).toBe(0);
    const secrets = tempDir('s3-copy-keys');
    const copyArgs = (file: string) => ['copy', '--from-repo', from, '--repo', to, '--from-s3-credentials', file];
    const env = { ...noKeys, LIFELINE_FROM_PASSWORD: PASSWORD, AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };

    const empty = path.join(secrets, 'empty.credentials');
    writeFileSync(empty, '[default]\naws_access_key_id = only-an-id\n', { mode: 0o600 });
    const refused = await cliAsync(copyArgs(empty), env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`S3 credentials file ${empty} has no aws_access_key_id and aws_secret_access_key`);
    const missing = await cliAsync(copyArgs(path.join(secrets, 'none')), env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('none');
    const listed = await cliAsync(['snapshots', '--repo', to, '--json'], env);
    expect(resultOf(listed).snapshots).toEqual([]);

    const keys = path.join(secrets, 'from.credentials');
    writeFileSync(
      keys,
      `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`,
      { mode: 0o600 },
    );
    const copied = await cliAsync([...copyArgs(keys), '--json'], env);
    expect(copied.code, copied.stderr).toBe(0);
    expect((resultOf(copied).snapshots as { copied: boolean }[]).map((x) => x.copied)).toEqual([true]);
    const target = tempDir('s3-copy-restored');
    expect((await cliAsync(['restore', '--repo', to, 'latest', '--target', target, '--json'], env)).code).toBe(0);
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
  }, 120_000);
});

describe('12.7 an S3 location that is wrong', () => {
  it('12.7 an unreachable endpoint, wrong credentials, a missing bucket and a malformed location each fail with the cause named, and write nothing', async () => {
    const closed = await freePort();
    const unreachable = await runText(['init', '--repo', `s3:http://127.0.0.1:${closed}/nowhere`], {
      LIFELINE_S3_MAX_ATTEMPTS: '2',
    });
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toContain(`cannot reach the S3 endpoint http://127.0.0.1:${closed}: ECONNREFUSED`);

    const bucket = bucketName();
    const wrongKeys = await runText(['init', '--repo', `s3:${s3.endpoint}/${bucket}`], {
      AWS_SECRET_ACCESS_KEY: 'not-the-secret',
    });
    expect(wrongKeys.code).not.toBe(0);
    expect(wrongKeys.stderr).toMatch(/refused the credentials \(SignatureDoesNotMatch\)/);
    const unknownKey = await runText(['init', '--repo', `s3:${s3.endpoint}/${bucket}`], {
      AWS_ACCESS_KEY_ID: 'NOSUCHKEY',
    });
    expect(unknownKey.stderr).toMatch(/refused the credentials \(InvalidAccessKeyId\)/);

    const missing = await runText(['snapshots', '--repo', `s3:${s3.endpoint}/${bucket}`]);
    expect(missing.code).toBe(10);
    expect(missing.stderr).toContain(`S3 bucket ${bucket} does not exist at ${s3.endpoint}`);
    // Nothing was made: the bucket is still not there.
    const stillMissing = await runText(['snapshots', '--repo', `s3:${s3.endpoint}/${bucket}`]);
    expect(stillMissing.stderr).toContain('does not exist');

    for (const bad of [
      `s3:${s3.endpoint}`,
      `s3:${s3.endpoint}/UPPER`,
      `s3:ftp://host/bucket`,
      `s3:${s3.endpoint}/b/../x`,
    ]) {
      const r = await runText(['snapshots', '--repo', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toMatch(/is not an S3 location|is not a bucket name|may not hold \. or \.\. parts/);
    }

    // An empty bucket is not a repository: opening it says so and adds nothing.
    const empty = bucketName();
    await new S3Storage(
      { endpoint: s3.endpoint, bucket: empty, prefix: '' },
      { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
    ).createLayout();
    const notRepo = await runText(['snapshots', '--repo', `s3:${s3.endpoint}/${empty}`]);
    expect(notRepo.code).toBe(10);
    expect(await objectsIn(empty)).toBe(0);
  }, 180_000);
});
