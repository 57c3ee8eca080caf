import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runBackup } from '../backup/run-backup';
import { encodeIndex, type IndexedPack } from '../repository/index-file';
import { LocalStorage } from '../repository/local-storage';
import { Repository } from '../repository/repository';
import { sealLockRecord, type LockRecord } from '../repository/lock';
import { radosgw } from '../../../test/support/radosgw';
import { S3Storage } from '../repository/s3-storage';
import { AppendOnlyAccess } from './append-only-access';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A lock record as a node's backup writes it, sealed with `key`. */
function nodeLock(key: Buffer, owner: string, patch: Partial<LockRecord> = {}): Buffer {
  return sealLockRecord(key, {
    host: 'node-host',
    pid: 42,
    exclusive: false,
    operation: 'backup',
    time: Date.now(),
    owner,
    ...patch,
  });
}

/** The backends a repository a node writes through the storage API may be on (12.1: S3 as a directory). */
const backends: { name: string; make: () => Promise<LocalStorage | S3Storage> }[] = [
  { name: 'a local directory', make: async () => new LocalStorage(path.join(dir, 'repo')) },
  {
    name: 'an S3 bucket (radosgw)',
    make: async () => {
      const s3 = await radosgw();
      return new S3Storage(
        { endpoint: s3.endpoint, bucket: `append-only-${process.pid}`, prefix: 'control/' },
        { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
      );
    },
  },
];

describe.each(backends)('a node’s append-only access to the repository, on $name', ({ make }) => {
  let storage: LocalStorage | S3Storage;
  let access: AppendOnlyAccess;
  const key = randomBytes(32);
  beforeAll(async () => {
    storage = await make();
    access = new AppendOnlyAccess(storage, { key: async () => key });
  }, 300_000);
  const lockOf = (owner: string, patch: Partial<LockRecord> = {}) => nodeLock(key, owner, patch);
  const q = (s = '') => new URLSearchParams(s);
  const bytes = Buffer.from('sealed pack bytes');
  const id = createHash('sha256').update(bytes).digest('hex');

  it('adds content-addressed objects, and adding the same one again changes nothing', async () => {
    await storage.createLayout();
    expect((await access.handle('n1', 'PUT', `data/${id}`, q(), bytes)).status).toBe(204);
    expect((await access.handle('n1', 'PUT', `data/${id}`, q(), bytes)).status).toBe(204);
    expect(await storage.get(`data/${id}`)).toEqual(bytes);
  });

  it('refuses bytes that do not match their name, so nothing can be rewritten under an existing name', async () => {
    const r = await access.handle('n1', 'PUT', `data/${id}`, q(), Buffer.from('other bytes'));
    expect(r.status).toBe(400);
    expect(await storage.get(`data/${id}`)).toEqual(bytes);
  });

  it('refuses deletes of data, index, snapshots and keys, and writes of keys and config', async () => {
    for (const kind of ['data', 'index', 'snapshots', 'keys'])
      expect((await access.handle('n1', 'DELETE', `${kind}/${id}`, q(), Buffer.alloc(0))).status).toBe(403);
    expect((await access.handle('n1', 'PUT', `keys/${id}`, q(), bytes)).status).toBe(403);
    expect((await access.handle('n1', 'PUT', 'config', q(), bytes)).status).toBe(400);
    expect(await storage.exists(`data/${id}`)).toBe(true);
  });

  it('lets a node write and remove its own locks, and no other node’s', async () => {
    const lock = `locks/${'ab'.repeat(16)}`;
    expect((await access.handle('n1', 'PUT', lock, q(), lockOf('n1'))).status).toBe(204);
    expect((await access.handle('n2', 'PUT', lock, q(), lockOf('n2'))).status).toBe(403);
    expect((await access.handle('n2', 'DELETE', lock, q(), Buffer.alloc(0))).status).toBe(403);
    expect((await access.handle('n1', 'DELETE', lock, q(), Buffer.alloc(0))).status).toBe(204);
    expect(await storage.exists(lock)).toBe(false);
  });

  it('a node at its quota may still take locks (to restore), but at most 16 at once; one released makes room', async () => {
    const full = new AppendOnlyAccess(storage, {
      key: async () => key,
      quota: { reserve: () => ({ ok: false, why: 'the node holds its whole quota' }), forget: () => undefined },
    });
    const name = (i: number) => `locks/${(i + 40).toString(16).padStart(2, '0').repeat(16)}`;
    for (let i = 0; i < 16; i++) expect((await full.handle('n3', 'PUT', name(i), q(), lockOf('n3'))).status).toBe(204);
    const refused = await full.handle('n3', 'PUT', name(16), q(), lockOf('n3'));
    expect(refused.status).toBe(429);
    expect(refused.body.toString()).toContain('at most 16 locks at once');
    expect(await storage.exists(name(16))).toBe(false);
    // Another node's locks are its own count.
    expect((await full.handle('n4', 'PUT', name(17), q(), lockOf('n4'))).status).toBe(204);
    expect((await full.handle('n3', 'DELETE', name(0), q(), Buffer.alloc(0))).status).toBe(204);
    expect((await full.handle('n3', 'PUT', name(16), q(), lockOf('n3'))).status).toBe(204);
    for (let i = 1; i <= 16; i++) await full.handle('n3', 'DELETE', name(i), q(), Buffer.alloc(0));
    await full.handle('n4', 'DELETE', name(17), q(), Buffer.alloc(0));
  });

  it('reads objects, ranges and listings, and rejects names outside the repository', async () => {
    expect(
      (await access.handle('n1', 'GET', `data/${id}`, q('offset=7&length=4'), Buffer.alloc(0))).body.toString(),
    ).toBe('pack');
    expect(
      JSON.parse((await access.handle('n1', 'GET', 'data', q('list=1'), Buffer.alloc(0))).body.toString()),
    ).toHaveLength(1);
    expect((await access.handle('n1', 'GET', '../secrets', q(), Buffer.alloc(0))).status).toBe(400);
  });

  it('06.2 refuses a lock a node cannot have taken: unreadable, another node’s, exclusive, or not dated now', async () => {
    const name = (i: number) => `locks/${String(i).padStart(2, '0').repeat(16)}`;
    const forged: [Buffer, RegExp][] = [
      [Buffer.from('any bytes at all'), /not a lock sealed with the repository's key/],
      [sealLockRecord(randomBytes(32), JSON.parse('{}')), /not a lock sealed/],
      [lockOf('n2'), /not a lock of this node \(it names n2\)/],
      [lockOf('n1', { exclusive: true }), /only take shared locks/],
      [lockOf('n1', { solo: true }), /only take shared locks/],
      [lockOf('n1', { time: Date.now() + 24 * 3600_000 }), /more than 30 s from now/],
      [lockOf('n1', { time: Date.now() - 3600_000 }), /more than 30 s from now/],
      [Buffer.alloc(5000), /too large/],
    ];
    for (const [i, [body, why]] of forged.entries()) {
      const r = await access.handle('n1', 'PUT', name(i), q(), body);
      expect(r.status).toBe(400);
      expect(r.body.toString()).toMatch(why);
      expect(await storage.exists(name(i))).toBe(false);
    }
  });
});

describe('06.1 an index a node uploads', () => {
  it('is stored only if it says exactly what the headers of its packs say, and supersedes nothing', async () => {
    const storage = new LocalStorage(path.join(dir, 'indexed'));
    const repo = await Repository.init(storage, 'a passphrase', { kdf: { N: 2 ** 10, r: 8, p: 1 } });
    const src = path.join(dir, 'src');
    mkdirSync(src);
    writeFileSync(path.join(src, 'a.bin'), randomBytes(200_000));
    await runBackup(repo, { paths: [src] });
    const refused: string[] = [];
    const access = new AppendOnlyAccess(storage, {
      key: async () => repo.key.encryption,
      onRefused: (node, name, why) => refused.push(`${node} ${name}: ${why}`),
    });
    repo.keepPackEntries();
    await repo.loadIndex();
    const real = repo.index.packIds().map((id) => ({ id, blobs: repo.index.packEntries(id)! }));
    const upload = (packs: IndexedPack[], supersedes: string[] = []) => {
      const bytes = encodeIndex(repo.key.encryption, { supersedes, packs });
      const name = `index/${createHash('sha256').update(bytes).digest('hex')}`;
      return access.handle('n1', 'PUT', name, new URLSearchParams({ lock: lockName }), bytes).then(async (r) => ({
        ...r,
        stored: await storage.exists(name),
      }));
    };
    // Indexes come from a node holding a lock (07.8).
    const lock = nodeLock(repo.key.encryption, 'n1');
    const lockName = `locks/${'cd'.repeat(16)}`;
    expect((await access.handle('n1', 'PUT', lockName, new URLSearchParams(), lock)).status).toBe(204);
    const shifted = real.map((p) => ({ ...p, blobs: p.blobs.map((b) => ({ ...b, offset: b.offset + 1 })) }));
    const forgeries: [IndexedPack[], string[], RegExp][] = [
      [real.map((p) => ({ id: p.id, blobs: [] })), [], /does not list what the header/],
      [shifted, [], /does not list what the header/],
      [[{ id: 'ab'.repeat(32), blobs: [] }], [], /not in the repository/],
      [[{ id: '../../config', blobs: [] }], [], /not in the repository/],
      [real, [repo.indexFileIds()[0]], /may not supersede/],
    ];
    for (const [packs, supersedes, why] of forgeries) {
      const r = await upload(packs, supersedes);
      expect(r.status).toBe(400);
      expect(r.body.toString()).toMatch(why);
      expect(r.stored).toBe(false);
    }
    expect(refused).toHaveLength(forgeries.length);
    const garbage = randomBytes(500);
    const garbageName = `index/${createHash('sha256').update(garbage).digest('hex')}`;
    expect((await access.handle('n1', 'PUT', garbageName, new URLSearchParams(), garbage)).status).toBe(400);
    // The same entries as the headers, as a backup writes them: stored.
    const honest = await upload(real);
    expect(honest.status).toBe(204);
    expect(honest.stored).toBe(true);
  });

  it('07.8 an index or a snapshot is stored only under the lock it names, live and the node’s own: not under one judged stale and removed, even while the node holds another', async () => {
    const storage = new LocalStorage(path.join(dir, 'stalled'));
    const repo = await Repository.init(storage, 'a passphrase', { kdf: { N: 2 ** 10, r: 8, p: 1 } });
    const access = new AppendOnlyAccess(storage, { key: async () => repo.key.encryption });
    const lockBytes = (owner: string) => nodeLock(repo.key.encryption, owner);
    // n1 holds two locks (a backup and a ship round at once).
    const backupLock = `locks/${'ef'.repeat(16)}`;
    const shipLock = `locks/${'ab'.repeat(16)}`;
    for (const lock of [backupLock, shipLock])
      expect((await access.handle('n1', 'PUT', lock, new URLSearchParams(), lockBytes('n1'))).status).toBe(204);
    const index = encodeIndex(repo.key.encryption, { supersedes: [], packs: [] });
    const snapshot = randomBytes(300);
    const names = [
      [`index/${createHash('sha256').update(index).digest('hex')}`, index],
      [`snapshots/${createHash('sha256').update(snapshot).digest('hex')}`, snapshot],
    ] as const;
    const put = (node: string, name: string, body: Buffer, lock?: string) =>
      access.handle(node, 'PUT', name, new URLSearchParams(lock ? { lock } : {}), body);
    // The backup stalled; its lock was judged stale and a prune ran.
    await storage.delete(backupLock);
    for (const [name, body] of names) {
      for (const [node, lock, why] of [
        ['n1', undefined, /does not hold the lock it is written under \(none named\)/],
        ['n1', backupLock, /does not hold the lock it is written under .*judged stale and removed/],
        ['n2', shipLock, /does not hold the lock it is written under/],
        ['n1', 'locks/../config', /does not hold the lock/],
      ] as const) {
        const r = await put(node, name, body, lock);
        expect({ node, lock, status: r.status, body: r.body.toString() }).toEqual({
          node,
          lock,
          status: 423,
          body: expect.stringMatching(why),
        });
        expect(await storage.exists(name)).toBe(false);
      }
      // Under the live lock it names: stored.
      expect((await put('n1', name, body, shipLock)).status).toBe(204);
      expect(await storage.exists(name)).toBe(true);
    }
  });
});
