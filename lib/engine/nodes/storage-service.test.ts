// The storage API's door, on real files: what it refuses before reading a body, and the cap while reading one.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { LocalStorage } from '../repository/local-storage';
import { MAX_PACK_BYTES } from '../repository/pack';
import { AppendOnlyAccess } from './append-only-access';
import { STORAGE_API_PATH } from './http-storage';
import { AUTH_HEADERS, newSecret, signRequest, verifyResponse } from './signed-request';
import { StorageService } from './storage-service';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-storage-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const node = { nodeId: 'n1', secret: newSecret() };
const storage = new LocalStorage(path.join(dir, 'repo'));
const access = new AppendOnlyAccess(storage, { key: async () => randomBytes(32) });
const service = new StorageService(
  async (_nodeId, tenant) => (tenant.kind === 'node' ? access : { refused: 'no groups here' }),
  (id) => (id === node.nodeId ? node.secret : null),
);

/** A body that records whether anyone read it. */
function watchedBody(bytes: number, chunk = 1024 * 1024) {
  const state = { read: 0 };
  const piece = Buffer.alloc(chunk);
  return {
    state,
    async *[Symbol.asyncIterator]() {
      for (let sent = 0; sent < bytes; sent += chunk) {
        state.read += chunk;
        yield piece;
      }
    },
  };
}

const headersOf = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null });

describe('06.5 the storage API’s door', () => {
  it('refuses an unknown node, a time off by more than 30 s, a used nonce or a length over the cap, unread', async () => {
    const name = `${STORAGE_API_PATH}/data/${'ab'.repeat(32)}`;
    const signed = signRequest(node, 'PUT', name, Buffer.alloc(12 * 1024 * 1024));
    const cases: [string, Record<string, string>, number, RegExp][] = [
      ['unknown node', { ...signed, [AUTH_HEADERS.node]: 'stranger' }, 401, /unknown-node/],
      ['clock', { ...signed, [AUTH_HEADERS.time]: String(Date.now() - 60_000) }, 401, /clock/],
      ['declared length', { ...signed, 'content-length': String(MAX_PACK_BYTES + 1) }, 413, /at most/],
      ['unsigned', {}, 401, /missing/],
    ];
    for (const [what, headers, status, why] of cases) {
      const body = watchedBody(12 * 1024 * 1024);
      const reply = await service.handle('PUT', name, headersOf(headers), body);
      expect([what, reply.status]).toEqual([what, status]);
      expect(reply.body.toString()).toMatch(why);
      expect([what, body.state.read]).toEqual([what, 0]);
    }
  });

  it('signs its refusals to a known node, so the node reads the reason', async () => {
    const name = `${STORAGE_API_PATH}/data/${'cd'.repeat(32)}`;
    const headers: Record<string, string> = {
      ...signRequest(node, 'PUT', name, 'x'),
      'content-length': String(MAX_PACK_BYTES + 1),
    };
    const reply = await service.handle('PUT', name, headersOf(headers), Buffer.from('x'));
    expect(reply.status).toBe(413);
    const nonce = headers[AUTH_HEADERS.nonce];
    expect(verifyResponse(node.secret, nonce, 413, reply.body, reply.headers[AUTH_HEADERS.signature])).toBe(true);
  });

  it('stops reading a body without a length once it passes the cap', async () => {
    const name = `${STORAGE_API_PATH}/data/${'ef'.repeat(32)}`;
    const body = watchedBody(MAX_PACK_BYTES + 8 * 1024 * 1024);
    const reply = await service.handle('PUT', name, headersOf(signRequest(node, 'PUT', name, 'whatever')), body);
    expect(reply.status).toBe(413);
    expect(body.state.read).toBeLessThanOrEqual(MAX_PACK_BYTES + 1024 * 1024);
    expect(await storage.exists(name.slice(STORAGE_API_PATH.length + 1))).toBe(false);
  });

  it('takes a signed upload, and refuses the same request sent again', async () => {
    await storage.createLayout();
    const bytes = randomBytes(1000);
    const name = `${STORAGE_API_PATH}/data/${createHash('sha256').update(bytes).digest('hex')}`;
    const headers = headersOf(signRequest(node, 'PUT', name, bytes));
    expect((await service.handle('PUT', name, headers, bytes)).status).toBe(204);
    const again = watchedBody(1000, 1000);
    const replayed = await service.handle('PUT', name, headers, again);
    expect(replayed.status).toBe(401);
    expect(replayed.body.toString()).toMatch(/replay/);
    expect(again.state.read).toBe(0);
  });
});
