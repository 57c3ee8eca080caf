import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { LocalStorage } from '../repository/local-storage';
import { AppendOnlyAccess } from './append-only-access';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a node’s append-only access to the repository', () => {
  const storage = new LocalStorage(path.join(dir, 'repo'));
  const access = new AppendOnlyAccess(storage);
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
    expect((await access.handle('n1', 'PUT', lock, q(), Buffer.from('lock'))).status).toBe(204);
    expect((await access.handle('n2', 'PUT', lock, q(), Buffer.from('mine now'))).status).toBe(403);
    expect((await access.handle('n2', 'DELETE', lock, q(), Buffer.alloc(0))).status).toBe(403);
    expect((await access.handle('n1', 'DELETE', lock, q(), Buffer.alloc(0))).status).toBe(204);
    expect(await storage.exists(lock)).toBe(false);
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
});
