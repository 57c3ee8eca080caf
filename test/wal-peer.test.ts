// 15.1 Frames go node to node: a standby pulls them from its primary over HTTP on 127.0.0.1, signed with the
// group key both ways and fenced by the primary's token; the attacker's cases (no key, an altered answer, a
// replaced primary that still answers) are refused and change nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { NonceCache, signResponse, AUTH_HEADERS, verifyRequest } from '@/lib/engine/nodes/signed-request';
import { FrameStore } from '@/lib/engine/replication/frame-store';
import { WalFollower, type WalPosition } from '@/lib/engine/replication/wal-follower';
import {
  answerFrom,
  encodeAnswer,
  type PullRequest,
  pullFrames,
  serveWalPull,
  WAL_PULL_PATH,
  type WalPeerSource,
} from '@/lib/engine/replication/wal-peer';
import { WalReplica } from '@/lib/engine/replication/wal-replica';

import { tempDir } from './helpers';

const GROUP_KEY = 'a1'.repeat(32);
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A primary's database with a follower and its store, and rows written to it. */
function primaryWith(rows: number) {
  const dir = tempDir('wal-peer-primary');
  const file = path.join(dir, 'notes.db');
  const app = new Database(file);
  app.pragma('journal_mode = WAL');
  app.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
  const follower = new WalFollower(file);
  follower.open();
  const store = new FrameStore(path.join(dir, 'frames'));
  const base = path.join(dir, 'base.db');
  const start = follower.beginGeneration(base);
  store.begin(start, start.log ? `${base}-wal` : null, 'base');
  for (let i = 1; i <= rows; i++) app.prepare('INSERT INTO notes (body) VALUES (?)').run(`note ${i}`);
  for (let b = follower.poll(); b; b = follower.poll()) store.append(b);
  return { file, app, follower, store, base, start };
}

function notes(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT body FROM notes ORDER BY id').all() as { body: string }[]).map((r) => r.body);
  } finally {
    db.close();
  }
}

describe('15.1 frames from node to node', () => {
  it('15.1 a standby pulls the frames after its copy’s position from the primary, signed with the group key; its copy is the primary’s database, and each pull acknowledges its position', async () => {
    const p = primaryWith(40);
    const acks: WalPosition[] = [];
    const source: WalPeerSource = {
      groupKey: () => GROUP_KEY,
      token: () => 7,
      answer: answerFrom((db) => (db === 'notes.db' ? p.store : null)),
      acknowledged: (nodeId, db, position) => {
        expect([nodeId, db]).toEqual(['standby-1', 'notes.db']);
        acks.push(position);
      },
    };
    const nonces = new NonceCache();
    const url = await listen((req, res) => serveWalPull(source, nonces, req, res));
    const replica = new WalReplica(path.join(tempDir('wal-peer-standby'), 'notes.db'));
    replica.installBase(p.base, p.start);
    const self = { nodeId: 'standby-1', groupKey: GROUP_KEY };
    for (;;) {
      const answer = await pullFrames(url, self, { db: 'notes.db', from: replica.position()!, token: 7 });
      if (answer.kind === 'current') break;
      expect(answer.kind).toBe('frames');
      if (answer.kind === 'frames') replica.apply(answer.batch);
    }
    p.follower.close();
    expect(acks.at(-1)).toEqual(replica.position());
    replica.promote();
    expect(notes(replica.dbPath)).toEqual(notes(p.file));
    expect(notes(replica.dbPath)).toHaveLength(40);
    p.app.close();
  });

  it('15.1 a pull without the group key is refused and acknowledges nothing; an answer altered on the way, or frames from a primary the standby no longer follows, are refused by the standby, which writes nothing', async () => {
    const p = primaryWith(5);
    const acks: WalPosition[] = [];
    const source: WalPeerSource = {
      groupKey: () => GROUP_KEY,
      token: () => 7,
      answer: answerFrom(() => p.store),
      acknowledged: (_node, _db, position) => {
        acks.push(position);
      },
    };
    const nonces = new NonceCache();
    const url = await listen((req, res) => serveWalPull(source, nonces, req, res));
    const replica = new WalReplica(path.join(tempDir('wal-peer-refuse'), 'notes.db'));
    replica.installBase(p.base, p.start);
    const from = replica.position()!;
    const request: PullRequest = { db: 'notes.db', from, token: 7 };

    // Another key: the agent answers 401, unsigned, and the caller takes nothing from it.
    await expect(pullFrames(url, { nodeId: 'standby-1', groupKey: 'b2'.repeat(32) }, request)).rejects.toThrow(
      /is not signed/,
    );
    expect(acks).toEqual([]);

    // A proxy that flips one byte of the frames on the way.
    const proxy = await listen(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const upstream = await fetch(`${url}${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: Buffer.concat(chunks),
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      body[body.length - 100] ^= 1;
      res.writeHead(upstream.status, Object.fromEntries(upstream.headers)).end(body);
    });
    await expect(pullFrames(proxy, { nodeId: 'standby-1', groupKey: GROUP_KEY }, request)).rejects.toThrow(
      /is not signed/,
    );

    // A primary that was replaced (token 6) but still has the group key, answering as if it were current.
    const old = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const auth = verifyRequest(
          { get: (n) => (req.headers[n] as string | undefined) ?? null },
          'POST',
          WAL_PULL_PATH,
          Buffer.concat(chunks),
          () => GROUP_KEY,
          new NonceCache(),
        );
        if (!auth.ok) throw new Error('the test’s own request is signed');
        const bytes = encodeAnswer({ kind: 'frames', token: 6, batch: p.store.read(from)!, at: null });
        res.writeHead(200, { [AUTH_HEADERS.signature]: signResponse(GROUP_KEY, auth.nonce, 200, bytes) }).end(bytes);
      });
    });
    await expect(pullFrames(old, { nodeId: 'standby-1', groupKey: GROUP_KEY }, request)).rejects.toThrow(
      "frames from token 6, not the primary's 7: refused",
    );
    // The real primary, asked with a stale token, says it is not that primary.
    const stale = await pullFrames(url, { nodeId: 'standby-1', groupKey: GROUP_KEY }, { ...request, token: 6 });
    expect(stale).toMatchObject({ kind: 'not-primary', token: 7 });
    // And a position it does not keep (another generation) needs a new base.
    const lost = await pullFrames(
      url,
      { nodeId: 'standby-1', groupKey: GROUP_KEY },
      { ...request, from: { ...from, generation: '0123456789abcdef' } },
    );
    expect(lost).toMatchObject({ kind: 'base-needed' });
    // Only the request the proxy passed on reached the primary signed: it acknowledged the standby's own position,
    // which is all an acknowledgment says. The refused, stale and lost pulls acknowledged nothing.
    expect(acks).toEqual([from]);
    expect(replica.position()).toEqual(from);
    p.follower.close();
    p.app.close();
  });
});
