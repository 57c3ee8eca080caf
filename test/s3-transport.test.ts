// 12.1: how the S3 backend talks to the server, seen from a recording proxy in front of a real radosgw (a test
// double for an unreliable network and for DNS only): answers of 500 and 503 SlowDown are retried with backoff
// until the work is done, and virtual-host addressing puts the bucket in the host name.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runBackup, runRestore } from '@/lib/engine';
import { Repository } from '@/lib/engine/repository/repository';
import { S3Storage } from '@/lib/engine/repository/s3-storage';

import { describeTree, PASSWORD, TEST_KDF, tempDir } from './helpers';
import { radosgw, type S3Server } from './support/radosgw';

interface Seen {
  method: string;
  host: string;
  path: string;
  answered: number;
  contentMd5?: string;
  bodyMd5?: string;
}

/** Forwards every request to radosgw as it came (so its signature still holds), except those `fail` picks, which
 *  it answers itself with that status and S3's error body. */
function proxy(target: string, fail: (n: number, req: http.IncomingMessage) => number | null) {
  const seen: Seen[] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const n = seen.length;
    const status = fail(n, req);
    const record: Seen = {
      method: req.method!,
      host: req.headers.host!,
      path: req.url!,
      answered: status ?? 0,
      contentMd5: req.headers['content-md5'] as string | undefined,
    };
    const md5 = createHash('md5');
    req.on('data', (chunk) => md5.update(chunk));
    req.on('end', () => {
      record.bodyMd5 = md5.digest('base64');
    });
    seen.push(record);
    if (status) {
      req.resume();
      const code = status === 503 ? 'SlowDown' : 'InternalError';
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`);
      return;
    }
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (back) => {
        record.answered = back.statusCode!;
        res.writeHead(back.statusCode!, back.headers);
        back.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  return {
    seen,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)),
      ),
    close: () => new Promise((r) => server.close(r)),
  };
}

let s3: S3Server;
const closers: (() => unknown)[] = [];
beforeAll(async () => {
  s3 = await radosgw();
}, 300_000);
afterAll(async () => {
  for (const close of closers) await close();
});

const credentials = () => ({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });

describe('12.1 the S3 transport', () => {
  it('12.1 answers of 500 and 503 SlowDown are retried with backoff: a backup and a restore through them are whole', async () => {
    // Every fourth request fails once, as a busy or throttling server answers.
    const p = proxy(s3.endpoint, (n) => (n % 4 === 3 ? (n % 8 === 3 ? 503 : 500) : null));
    closers.push(p.close);
    const endpoint = await p.listen();
    const storage = new S3Storage(
      { endpoint, bucket: `retry-${process.pid}`, prefix: '' },
      { credentials: credentials() },
    );
    const repo = await Repository.init(storage, PASSWORD, { kdf: TEST_KDF });
    const src = path.join(tempDir('s3-retry'), 'data');
    mkdirSync(src);
    for (let i = 0; i < 20; i++) writeFileSync(path.join(src, `f${i}`), randomBytes(100_000 + i));
    const { id } = await runBackup(repo, { paths: [src] });
    const target = tempDir('s3-retry-target');
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
    // Every write says what its body hashes to (S3 requires it of writes into a bucket with object lock), and the
    // server checks it.
    const puts = p.seen.filter((s) => s.method === 'PUT' && s.answered === 200 && /^\/[^/]+\/[^?]+/.test(s.path));
    expect(puts.length).toBeGreaterThan(0);
    for (const put of puts) expect(put.contentMd5, put.path).toBe(put.bodyMd5);
    const failed = p.seen.filter((s) => s.answered >= 500);
    expect(failed.some((s) => s.answered === 503)).toBe(true);
    expect(failed.some((s) => s.answered === 500 && s.method === 'PUT')).toBe(true);
  }, 120_000);

  it('12.1 with virtual-host addressing the bucket is in the host name, not the path, and objects read back', async () => {
    const p = proxy(s3.endpoint, () => null);
    closers.push(p.close);
    const port = new URL(await p.listen()).port;
    const bucket = `vhost-${process.pid}`;
    // DNS for the test only: <bucket>.localhost is this machine.
    const agent = new http.Agent({
      lookup: (_host, options, callback) =>
        (options as { all?: boolean }).all
          ? (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
              { address: '127.0.0.1', family: 4 },
            ])
          : callback(null, '127.0.0.1', 4),
    });
    const storage = new S3Storage(
      { endpoint: `http://localhost:${port}`, bucket, prefix: 'p/' },
      { bucketLookup: 'dns', agent, credentials: credentials() },
    );
    await storage.createLayout();
    const bytes = randomBytes(10_000);
    await storage.put('keys/one', bytes, { exclusive: true });
    expect((await storage.get('keys/one')).equals(bytes)).toBe(true);
    expect((await storage.list('keys')).map((o) => o.name)).toEqual(['one']);
    const writes = p.seen.filter((s) => s.method === 'PUT' && s.path.includes('keys'));
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) {
      expect(w.host).toBe(`${bucket}.localhost:${port}`);
      expect(w.path.startsWith('/p/keys/one')).toBe(true);
    }
  }, 120_000);
});
