// 15.1 The primary's replication on its own thread (dist/replicator-worker.cjs), as the agent runs it: it follows
// the database while a service writes from a process of its own, and a standby that pulls through it ends with the
// primary's database. Stopped and started again (an agent restart), it takes up the same generation.
import { spawn } from 'node:child_process';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { type WalPosition, samePosition } from '@/lib/engine/replication/wal-follower';
import { WalReplica } from '@/lib/engine/replication/wal-replica';
import { Replicator } from '@/lib/engine/replication/replicator';

import { tempDir } from './helpers';
import { walDatabase, walRows } from './support/wal-database';
import { exitOf, pace, waitFor } from './support/wait';

const SCRIPT = path.resolve(import.meta.dirname, '..', 'dist', 'replicator-worker.cjs');
const WRITER = path.join(import.meta.dirname, 'support', 'sqlite-writer.cjs');

describe('15.1 the replicator thread', () => {
  it('15.1 keeps every committed frame while the service writes, and a standby pulling through it ends with the primary’s database; after a restart it takes up the same generation', async () => {
    const dir = tempDir('replicator');
    const db = walDatabase(dir);
    const options = {
      dbPath: db,
      shownAs: 'app.db',
      storeDir: path.join(dir, 'frames'),
      pollMs: 5,
      checkpointFrames: 200,
    };
    const errors: string[] = [];
    const start = (): { replicator: Replicator; generations: WalPosition[] } => {
      const replicator = new Replicator(SCRIPT, options);
      const generations: WalPosition[] = [];
      replicator.on('base', (g) => generations.push(g.position));
      replicator.on('error', (err) => errors.push(err.message));
      return { replicator, generations };
    };

    let { replicator, generations } = start();
    await waitFor('the first generation', () => generations.length === 1, 10_000);
    const replica = new WalReplica(path.join(tempDir('replicator-standby'), 'app.db'));
    replica.installBase(path.join(options.storeDir, 'bases', generations[0].generation, 'base.db'), generations[0]);
    // As the agent says once the base is in the repository: its files go.
    replicator.shipped(generations[0].generation);
    const catchUp = async () => {
      for (;;) {
        const answer = await replicator.answer({ db: 'app.db', from: replica.position()!, token: 1 }, 1);
        if (answer.kind !== 'frames') return answer;
        replica.apply(answer.batch);
      }
    };

    const writer = spawn(process.execPath, [WRITER, db, '400'], { stdio: ['ignore', 'ignore', 'inherit'] });
    // The standby pulls while the service writes.
    while (writer.exitCode === null) {
      expect((await catchUp()).kind).toBe('current');
      await pace(5);
    }
    await waitFor('the writer to exit', exitOf(writer), 60_000);
    expect(writer.exitCode).toBe(0);

    // Stopped (the agent restarts) and started again, with writes in between: the same generation goes on.
    const before = await replicator.stop();
    const app = new Database(db);
    for (let i = 0; i < 20; i++) app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)').run(-1, Buffer.alloc(500, i));
    ({ replicator, generations } = start());
    await waitFor(
      'the replicator to take up its frames',
      () => {
        const at = replicator.position;
        return at !== null && before !== null && !samePosition(at, before);
      },
      10_000,
    );
    expect(generations).toEqual([]);
    expect(replicator.position?.generation).toBe(replica.position()?.generation);
    await waitFor(
      'the standby to have every frame',
      async () => (await catchUp()).kind === 'current' && samePosition(replica.position()!, replicator.position!),
      10_000,
    );
    await replicator.stop();
    app.close();
    replica.promote();
    expect(errors).toEqual([]);
    expect(walRows(replica.dbPath)).toEqual(walRows(db));
  }, 120_000);
});
