// 15.1 and 15.2 The agents' log replication (lib/engine/nodes/log-replication.ts) on its real threads, in this
// process: a primary's behind the peer route on 127.0.0.1, a standby's pulling from it. The group's repository is
// played by a directory (a test double: the agents ship and restore bases through the real repository, which
// test/log-replication.test.ts runs); what is tested here is which base a standby starts from.
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import type { ServiceConfig } from '@/lib/engine/nodes/agent-config';
import { LogReplication } from '@/lib/engine/nodes/log-replication';
import { NonceCache } from '@/lib/engine/nodes/signed-request';
import { type BaseFiles, readBase } from '@/lib/engine/replication/replicator';
import { serveWalPull } from '@/lib/engine/replication/wal-peer';

import { tempDir } from './helpers';
import { walDatabase, walRows } from './support/wal-database';
import { waitFor } from './support/wait';

const DIST = path.resolve(import.meta.dirname, '..', 'dist');
const WORKERS = {
  replicator: path.join(DIST, 'replicator-worker.cjs'),
  puller: path.join(DIST, 'puller-worker.cjs'),
};
const GROUP_KEY = 'd4'.repeat(32);

const servers: http.Server[] = [];
const replications: LogReplication[] = [];
afterAll(async () => {
  for (const r of replications) await r.stop();
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
});

/** The group's repository, played by a directory: each base shipped is copied into a directory of its own, with
 *  the generation it is of and the token of the leadership that shipped it. */
function baseRepository() {
  const root = tempDir('bases-repository');
  let shipped = 0;
  return {
    shipped: () => shipped,
    ship(db: string, base: BaseFiles, token: number | null): void {
      const dir = path.join(root, String(++shipped).padStart(4, '0'));
      cpSync(base.baseDir, path.join(dir, 'base'), { recursive: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ db, token, generation: base.position.generation }));
    },
    /** The newest base of `db` whose meta matches `wanted`, restored into `into`. */
    fetch(db: string, wanted: (meta: { token: number | null; generation: string }) => boolean, into: string) {
      for (const name of readdirSync(root).sort().reverse()) {
        const meta = JSON.parse(readFileSync(path.join(root, name, 'meta.json'), 'utf8'));
        if (meta.db !== db || !wanted(meta)) continue;
        cpSync(path.join(root, name, 'base'), path.join(into, 'base'), { recursive: true });
        return readBase(path.join(into, 'base'));
      }
      return null;
    },
  };
}

function service(dataDir: string): ServiceConfig {
  return { dataDir, sqlite: ['app.db'], paths: [] } as unknown as ServiceConfig;
}

describe('15.1 and 15.2 which base a standby starts from', () => {
  it('15.1 a node that takes the key back while its replication of the earlier leadership still runs (its hand-on) serves a new standby, which starts from the newest base of the generation it goes on with', async () => {
    const repository = baseRepository();
    const primaryDir = tempDir('takeback-primary');
    const db = walDatabase(primaryDir);
    const primary: LogReplication = new LogReplication({
      nodeId: 'a',
      stateDir: tempDir('takeback-primary-state'),
      service: service(primaryDir),
      workers: WORKERS,
      hooks: {
        shipBase: async (name, base) => repository.ship(name, base, primary.token),
        fetchBase: async () => null,
        beforeReplace: async () => {},
        publishSynchronous: async () => {},
        log: () => {},
        changed: () => {},
      },
    });
    replications.push(primary);
    const nonces = new NonceCache();
    const server = http.createServer((req, res) =>
      serveWalPull(
        {
          groupKey: () => GROUP_KEY,
          token: () => primary.token,
          answer: (request, token, nodeId) => primary.answer(request, token, nodeId),
        },
        nonces,
        req,
        res,
      ),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // Primary of token 5: its first base is shipped.
    primary.lead(5, 0);
    await waitFor('the first base to be shipped', () => repository.shipped() === 1, 20_000);
    // Another node takes the key (token 6): this one goes on answering pulls of its leadership for a while...
    primary.follow({ url: 'http://127.0.0.1:9', token: 6, groupKey: GROUP_KEY });
    // ...and takes the key back meanwhile (token 7): its data goes on from where it was.
    primary.lead(7, 0);
    const app = new Database(db);
    for (let i = 0; i < 50; i++) app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)').run(7, Buffer.alloc(2000, i));
    app.close();
    const written = await primary.flush();
    expect(written).not.toBeNull();

    // A new standby of the primary of token 7: it starts from a base, and holds every write.
    const standbyDir = tempDir('takeback-standby');
    const standby = new LogReplication({
      nodeId: 'c',
      stateDir: tempDir('takeback-standby-state'),
      service: service(standbyDir),
      workers: WORKERS,
      hooks: {
        shipBase: async () => {},
        fetchBase: async (name, generation, into) =>
          repository.fetch(name, (meta) => meta.generation === generation, into),
        beforeReplace: async () => {},
        publishSynchronous: async () => {},
        log: () => {},
        changed: () => {},
      },
    });
    replications.push(standby);
    standby.follow({ url, token: 7, groupKey: GROUP_KEY });
    await waitFor('the standby to hold every write', () => (standby.dataTime() ?? 0) >= written!, 20_000);
    await standby.promote();
    expect(walRows(path.join(standbyDir, 'app.db'))).toEqual(walRows(db));
    expect(walRows(db).filter((r) => r.txn === 7)).toHaveLength(50);
  }, 60_000);
});
