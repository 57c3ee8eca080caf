// 15.1 A standby promoted while no puller runs on its copy (its agent restarted, and it takes the key before it
// follows anyone): the copy, with the logs that waited behind its log, becomes the database, every transaction of
// it there. LogReplication on its real threads, on files a follower and a copy wrote in this process.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import type { ServiceConfig } from '@/lib/engine/nodes/agent-config';
import { LogReplication } from '@/lib/engine/nodes/log-replication';
import { type WalBatch, WalFollower } from '@/lib/engine/replication/wal-follower';
import { WalReplica } from '@/lib/engine/replication/wal-replica';

import { tempDir } from './helpers';
import { walDatabase, walRows } from './support/wal-database';

const DIST = path.resolve(import.meta.dirname, '..', 'dist');
const WORKERS = {
  replicator: path.join(DIST, 'replicator-worker.cjs'),
  puller: path.join(DIST, 'puller-worker.cjs'),
};

/** A standby's copy of a primary's database whose log waits behind two newer logs (no puller checkpointed it),
 *  with the primary's database file. */
function copyWithWaitingLogs(name: string): { db: string; standbyDir: string; replica: WalReplica } {
  const primaryDir = tempDir(`${name}-primary`);
  const db = walDatabase(primaryDir);
  const app = new Database(db);
  app.pragma('wal_autocheckpoint = 0');
  let txn = 0;
  const write = () => app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)').run(++txn, Buffer.alloc(2000, txn));
  const standbyDir = tempDir(`${name}-standby`);
  const replica = new WalReplica(path.join(standbyDir, 'app.db'));
  const follower = new WalFollower(db);
  follower.open();
  try {
    const base = path.join(primaryDir, 'base.db');
    replica.installBase(base, follower.beginGeneration(base));
    const keep = (b: WalBatch) => replica.apply(b);
    // Two restarts of the primary's log: the copy's log waits behind two newer ones (no puller checkpoints it).
    for (let restart = 0; restart < 2; restart++) {
      write();
      for (let b = follower.poll(); b; b = follower.poll()) keep(b);
      expect(follower.checkpoint(keep)).toBe(true);
    }
    write();
    for (let b = follower.poll(); b; b = follower.poll()) keep(b);
  } finally {
    follower.close();
  }
  app.close();
  expect(replica.behind).toBe(2);

  return { db, standbyDir, replica };
}

function standbyReplication(name: string, standbyDir: string): LogReplication {
  return new LogReplication({
    nodeId: 'b',
    stateDir: tempDir(`${name}-state`),
    service: { dataDir: standbyDir, sqlite: ['app.db'], paths: [] } as unknown as ServiceConfig,
    workers: WORKERS,
    hooks: {
      shipBase: async () => {},
      fetchBase: async () => null,
      beforeReplace: async () => {},
      publishSynchronous: async () => {},
      log: () => {},
      changed: () => {},
    },
  });
}

/** The standby's database is a plain one, as the service opens it, with every transaction of the copy. */
function expectWholeDatabase(db: string, standbyDir: string, replica: WalReplica): void {
  expect(readdirSync(standbyDir).filter((name) => name.startsWith('app.db-wal'))).toEqual([]);
  expect(existsSync(replica.notePath)).toBe(false);
  expect(walRows(path.join(standbyDir, 'app.db'))).toEqual(walRows(db));
  expect(walRows(path.join(standbyDir, 'app.db')).length).toBe(3);
}

describe('15.1 promotion', () => {
  it('15.1 a standby promoted while no puller runs on its copy makes the copy, the logs that waited behind its log included, the database: no transaction of it is left out', async () => {
    const { db, standbyDir, replica } = copyWithWaitingLogs('promote');
    const standby = standbyReplication('promote', standbyDir);
    let ended: Awaited<ReturnType<LogReplication['promote']>>;
    try {
      ended = await standby.promote();
    } finally {
      await standby.stop();
    }
    expectWholeDatabase(db, standbyDir, replica);
    // Where the copy ended, as a promotion says it.
    expect(ended[0].position?.frame).toBeGreaterThan(0);
  });

  it('15.1 a group that stops replicating its log makes a standby’s copy, the logs that waited behind its log included, a plain database: nothing of it is lost until shipped copies replace it', async () => {
    const { db, standbyDir, replica } = copyWithWaitingLogs('unreplicated');
    const standby = standbyReplication('unreplicated', standbyDir);
    await standby.stop(true);
    expectWholeDatabase(db, standbyDir, replica);
  });
});
