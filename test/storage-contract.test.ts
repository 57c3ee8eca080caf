// 12.1: what the engine asks of storage, asked of every backend the same way: a local directory and an S3 bucket
// on a real radosgw (scripts/radosgw.mjs). Names, bytes, ranges, listings past 1,000 objects, exclusive writes,
// deletes, and a clear error for what is not there.
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { isEngineError } from '@/lib/engine';
import { LocalStorage } from '@/lib/engine/repository/local-storage';
import { S3Storage } from '@/lib/engine/repository/s3-storage';
import type { Storage } from '@/lib/engine/repository/storage';

import { tempDir } from './helpers';
import { radosgw } from './support/radosgw';

type Backend = { name: string; make: () => Promise<Storage & { createLayout(): Promise<void> }> };

let bucketSeq = 0;
const backends: Backend[] = [
  { name: 'local directory', make: async () => new LocalStorage(path.join(tempDir('contract'), 'repo')) },
  {
    name: 'S3 (radosgw)',
    make: async () => {
      const s = await radosgw();
      const bucket = `contract-${process.pid}-${bucketSeq++}`;
      return new S3Storage(
        { endpoint: s.endpoint, bucket, prefix: 'under/a/prefix/' },
        { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } },
      );
    },
  },
];

const idOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.each(backends)('12.1 the storage contract: $name', ({ make }) => {
  let storage: Storage & { createLayout(): Promise<void> };
  beforeAll(async () => {
    storage = await make();
    await storage.createLayout();
  }, 300_000);

  it('12.1 an object reads back whole and in ranges (from an offset, a length, the last bytes), and a pack lists under its id', async () => {
    const bytes = randomBytes(300_000);
    const id = idOf(bytes);
    await storage.put(`data/${id}`, bytes);
    expect((await storage.get(`data/${id}`)).equals(bytes)).toBe(true);
    expect((await storage.get(`data/${id}`, { offset: 1000, length: 5000 })).equals(bytes.subarray(1000, 6000))).toBe(
      true,
    );
    expect((await storage.get(`data/${id}`, { offset: 299_000 })).equals(bytes.subarray(299_000))).toBe(true);
    expect((await storage.get(`data/${id}`, { offset: -4096 })).equals(bytes.subarray(-4096))).toBe(true);
    const listed = await storage.list('data');
    expect(listed.find((o) => o.name === id)).toMatchObject({ name: id, size: bytes.length });
    expect(await storage.exists(`data/${id}`)).toBe(true);
  });

  it('12.1 an exclusive write of a name that is there is refused and changes nothing; writing a content-addressed name again leaves its bytes', async () => {
    const first = Buffer.from('the first key file');
    await storage.put('keys/k1', first, { exclusive: true });
    await expect(storage.put('keys/k1', Buffer.from('another'), { exclusive: true })).rejects.toSatisfy((e) =>
      isEngineError(e, 'repository-exists'),
    );
    expect((await storage.get('keys/k1')).equals(first)).toBe(true);

    const index = Buffer.from('{"packs":[]}');
    await storage.put(`index/${idOf(index)}`, index);
    await storage.put(`index/${idOf(index)}`, index);
    expect((await storage.get(`index/${idOf(index)}`)).equals(index)).toBe(true);
  });

  it('12.1 a lock and the config are replaced by a write; a deleted object is gone, and deleting it again is no error', async () => {
    await storage.put('locks/l1', Buffer.from('first'));
    await storage.put('locks/l1', Buffer.from('refreshed'));
    expect((await storage.get('locks/l1')).toString()).toBe('refreshed');
    await storage.delete('locks/l1');
    expect(await storage.exists('locks/l1')).toBe(false);
    await storage.delete('locks/l1');
    expect((await storage.list('locks')).map((o) => o.name)).not.toContain('l1');
  });

  it('12.1 what is not there is `not-found`, naming it', async () => {
    const missing = `snapshots/${'0'.repeat(64)}`;
    await expect(storage.get(missing)).rejects.toSatisfy(
      (e) => isEngineError(e, 'not-found') && (e as Error).message.includes(missing),
    );
    expect(await storage.exists(missing)).toBe(false);
  });

  it('12.1 a listing of more than 1,000 objects has them all', async () => {
    const names = new Set<string>();
    const all = Array.from({ length: 1_050 }, (_, i) => Buffer.from(`snapshot ${i}`));
    for (let i = 0; i < all.length; i += 50)
      await Promise.all(
        all.slice(i, i + 50).map((b) => {
          names.add(idOf(b));
          return storage.put(`snapshots/${idOf(b)}`, b);
        }),
      );
    const listed = await storage.list('snapshots');
    expect(new Set(listed.map((o) => o.name))).toEqual(names);
  }, 120_000);
});
