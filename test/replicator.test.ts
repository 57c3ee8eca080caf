// 15.1 The primary's replication on its own thread (dist/replicator-worker.cjs), as the agent runs it: it follows
// the database while a service writes from a process of its own, and a standby that pulls through it ends with the
// primary's database. Stopped and started again (an agent restart), it takes up the same generation.
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { samePosition } from '@/lib/engine/replication/wal-follower';
import { WalReplica } from '@/lib/engine/replication/wal-replica';
import { BASE_LOG, type BaseFiles, Replicator, readBase } from '@/lib/engine/replication/replicator';

import { tempDir } from './helpers';
import { walDatabase, walRows } from './support/wal-database';
import { exitOf, pace, waitFor } from './support/wait';

const SCRIPT = path.resolve(import.meta.dirname, '..', 'dist', 'replicator-worker.cjs');
const WRITER = path.join(import.meta.dirname, 'support', 'sqlite-writer.cjs');

/** A replicator of `db` (its store under `dir`) reading every 5 ms and checkpointing each 50 frames, and the bases it
 *  announces. */
function replicatorOf(dir: string, db: string, options: { baseEveryMs?: number; storeLimitBytes?: number }) {
  const replicator = new Replicator(SCRIPT, {
    dbPath: db,
    shownAs: 'app.db',
    storeDir: path.join(dir, 'frames'),
    pollMs: 5,
    checkpointFrames: 50,
    ...options,
  });
  const bases: (BaseFiles & { why: string })[] = [];
  replicator.on('base', (b) => bases.push(b));
  return { replicator, bases };
}

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
    const start = (): { replicator: Replicator; generations: BaseFiles[] } => {
      const replicator = new Replicator(SCRIPT, options);
      const generations: BaseFiles[] = [];
      replicator.on('base', (g) => generations.push(g));
      replicator.on('error', (err) => errors.push(err.message));
      return { replicator, generations };
    };

    let { replicator, generations } = start();
    await waitFor('the first generation', () => generations.length === 1, 10_000);
    const replica = new WalReplica(path.join(tempDir('replicator-standby'), 'app.db'));
    /** Installs the newest generation's base, as the agent does from the repository, and lets its files go. */
    const installNewest = () => {
      const newest = generations.at(-1)!;
      const { baseDir } = newest;
      if (existsSync(path.join(baseDir, BASE_LOG)))
        renameSync(path.join(baseDir, BASE_LOG), path.join(baseDir, 'base.db-wal'));
      replica.installBase(path.join(baseDir, 'base.db'), newest.position, newest.logInFile);
      replicator.shipped(newest);
    };
    installNewest();
    const catchUp = async () => {
      for (;;) {
        const answer = await replicator.answer({ db: 'app.db', from: replica.position()!, token: 1 }, 1);
        // A new generation (a seal missed on a loaded machine: docs/failover.md): the standby starts from its base.
        const newest = generations.at(-1);
        if (answer.kind === 'base-needed' && newest && newest.position.generation !== replica.position()!.generation) {
          installNewest();
          continue;
        }
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

    // Stopped (the agent restarts) and started again, with writes in between: the same generation goes on, unless
    // the log restarted meanwhile (the follower had sealed it just before it stopped, which a loaded machine makes
    // likelier): then a new one begins, and the standby starts from its base.
    const before = await replicator.stop();
    const salts = () => readFileSync(`${db}-wal`).subarray(16, 24).toString('hex');
    const saltsBefore = salts();
    const app = new Database(db);
    for (let i = 0; i < 20; i++) app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)').run(-1, Buffer.alloc(500, i));
    const logRestarted = salts() !== saltsBefore;
    ({ replicator, generations } = start());
    await waitFor(
      'the replicator to take up its frames',
      () => {
        const at = replicator.position;
        return at !== null && before !== null && !samePosition(at, before);
      },
      10_000,
    );
    if (logRestarted) {
      expect(generations).toHaveLength(1);
      installNewest();
    } else expect(generations).toEqual([]);
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

  it('15.2 a base is taken within the generation once the frames kept outgrow the database, and once the base is as old as the group asks: a standby that follows along needs none of them; once two newer bases are shipped the frames before the older go, and a standby left behind starts from the newest base and the frames after it', async () => {
    const dir = tempDir('replicator-bases');
    const db = walDatabase(dir);
    const start = (options: { baseEveryMs?: number; storeLimitBytes?: number }) => replicatorOf(dir, db, options);
    /** A standby's copy from `base` (its files copied, as each standby restores them from the repository). */
    const standbyFrom = (base: BaseFiles) => {
      const replica = new WalReplica(path.join(tempDir('replicator-standby'), 'app.db'));
      const staged = path.join(tempDir('replicator-staged'), 'base.db');
      copyFileSync(path.join(base.baseDir, 'base.db'), staged);
      if (existsSync(path.join(base.baseDir, BASE_LOG)))
        copyFileSync(path.join(base.baseDir, BASE_LOG), `${staged}-wal`);
      replica.installBase(staged, base.position, base.logInFile);
      return replica;
    };
    /** Pulls until the standby has every frame kept, or is told it needs a base (that answer is returned). */
    const catchUp = async (replicator: Replicator, replica: WalReplica) => {
      for (;;) {
        const answer = await replicator.answer({ db: 'app.db', from: replica.position()!, token: 1 }, 1);
        if (answer.kind !== 'frames') return answer;
        replica.apply(answer.batch);
      }
    };
    const write = (rows: number, txn: number) => {
      const app = new Database(db);
      for (let i = 0; i < rows; i++)
        app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)').run(txn, Buffer.alloc(3000, i));
      app.close();
    };

    // Frames past the database's size: a new base, so a new standby never downloads more frames than a base.
    let { replicator, bases } = start({ storeLimitBytes: 1 });
    await waitFor('the first base', () => bases.length === 1, 10_000);
    const first = bases[0];
    const following = standbyFrom(first);
    const behind = standbyFrom(first);
    const writer = spawn(process.execPath, [WRITER, db, '300'], { stdio: ['ignore', 'ignore', 'inherit'] });
    // The standby following along is never asked to start over.
    while (writer.exitCode === null) {
      expect((await catchUp(replicator, following)).kind).toBe('current');
      await pace(5);
    }
    await waitFor('the writer to exit', exitOf(writer), 60_000);
    expect(writer.exitCode).toBe(0);
    await waitFor('a base taken for the frames kept', () => bases.length > 1, 10_000);
    expect(bases[1].why).toMatch(/^the frames kept since its base \(\d+ MiB\) outgrew \d+ MiB/);
    // What it says it wrote (the bench's measure of the primary's cost, per byte of log): every frame it copied from
    // the log, whole frames only, at least the pages the writes added to the database; and each base's files.
    await waitFor('the figures to count every base', () => replicator.figures.bases === bases.length, 10_000);
    const { logBytes, baseBytes } = replicator.figures;
    const frameBytes = 4096 + 24;
    expect(logBytes % frameBytes).toBe(0);
    expect((logBytes / frameBytes) * 4096).toBeGreaterThanOrEqual(
      statSync(db).size - statSync(path.join(first.baseDir, 'base.db')).size,
    );
    const filesOf = (dir: string) => readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
    expect(baseBytes).toBe(bases.reduce((sum, b) => sum + filesOf(b.baseDir), 0));
    // The newest base, with the log copied between the position of the one before and its own.
    const { newestBase } = replicator.figures;
    expect(newestBase?.bytes).toBe(filesOf(bases.at(-1)!.baseDir));
    expect(newestBase?.logBytesBefore).toBeGreaterThan(0);
    expect(newestBase?.logBytesBefore).toBeLessThanOrEqual(logBytes);
    // Of the same generation: the history goes on.
    expect(new Set(bases.map((b) => b.position.generation))).toEqual(new Set([first.position.generation]));
    // Each base, taken while the service wrote, is the database at its position on its own (its file copied while
    // the writes went on holds nothing past it): whole, and every transaction up to some point, none after.
    for (const base of bases.slice(1)) {
      const alone = standbyFrom(base);
      alone.promote();
      const check = new Database(alone.dbPath, { readonly: true });
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      check.close();
      const rows = walRows(alone.dbPath);
      expect(rows.map((r) => r.id)).toEqual(rows.map((_, i) => i + 1));
      expect(rows.every((r, i) => i === 0 || r.txn >= rows[i - 1].txn)).toBe(true);
    }
    // A new base counts no frames yet, however long the log it carries a part of: no base follows until frames do
    // (a round read to the end, then another).
    await replicator.flush();
    const after = bases.length;
    await replicator.flush();
    expect(bases.length).toBe(after);
    await replicator.stop();

    // A base as old as the group asks: a new one, of the same generation.
    ({ replicator, bases } = start({ baseEveryMs: 200 }));
    await waitFor(
      'a base taken for its age',
      () => bases.filter((b) => /old: a new one is due$/.test(b.why)).length >= 2,
      10_000,
    );
    // Writes between them, across several logs (each restarts once sealed, every 50 frames).
    write(300, -2);
    await waitFor('a base taken after the writes', () => bases.length > 3, 10_000);
    expect(bases.every((b) => b.position.generation === first.position.generation)).toBe(true);
    expect((await catchUp(replicator, following)).kind).toBe('current');

    // The two newest shipped: the frames before the older of them go, and the standby left at the first base is
    // told to start from a base of the primary's generation.
    const [older, newest] = bases.slice(-2);
    // A new standby restores the newest (its files are gone from the primary once shipped).
    const fresh = standbyFrom(newest);
    replicator.shipped(older);
    replicator.shipped(newest);
    await waitFor(
      'the frames before the older shipped base to go',
      async () => {
        const answer = await replicator.answer({ db: 'app.db', from: behind.position()!, token: 1 }, 1);
        return answer.kind === 'base-needed' && answer;
      },
      10_000,
    ).then((answer) => expect(answer.generation).toBe(first.position.generation));
    // The bases shipped are no longer kept by the primary.
    expect(existsSync(older.baseDir)).toBe(false);
    write(30, -3);
    await replicator.flush();
    expect((await catchUp(replicator, fresh)).kind).toBe('current');
    expect((await catchUp(replicator, following)).kind).toBe('current');
    await replicator.stop();
    fresh.promote();
    following.promote();
    expect(walRows(fresh.dbPath)).toEqual(walRows(db));
    expect(walRows(following.dbPath)).toEqual(walRows(db));
    expect(walRows(db).filter((r) => r.txn === -3)).toHaveLength(30);
  }, 120_000);

  it('15.2 a base that falls due while the log is long waits for a checkpoint to seal it: the log emptied (the service has gone quiet), the base is the file alone, and a standby that installs it takes the next log as its own', async () => {
    const dir = tempDir('replicator-base-wait');
    const db = walDatabase(dir);
    const { replicator, bases } = replicatorOf(dir, db, { storeLimitBytes: 1 });
    /** `rows` rows in one transaction (a round never finds the log part-way through them). */
    const write = (rows: number, txn: number) => {
      const app = new Database(db);
      const insert = app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)');
      app.transaction(() => {
        for (let i = 0; i < rows; i++) insert.run(txn, Buffer.alloc(3000, i));
      })();
      app.close();
    };
    try {
      await waitFor('the first base', () => bases.length === 1, 10_000);
      // A reader of the service's, on a snapshot from before the burst: no checkpoint can copy the burst into the
      // file, so the log cannot be sealed.
      const reader = new Database(db, { readonly: true });
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM t').get();
      write(300, 1);
      // Rounds that read the burst to its end: a base is due (the frames outgrew the database), and waits.
      await replicator.flush();
      await replicator.flush();
      expect(bases).toHaveLength(1);
      // It says so (the primary's status: a base under way).
      await waitFor('the base due said to be under way', () => replicator.baseUnderWay, 10_000);
      // The reader done, a checkpoint seals the log; the service writes no more, so the log is emptied and the base
      // is the file alone.
      reader.exec('COMMIT');
      reader.close();
      await waitFor('the base, once the log was sealed', () => bases.length === 2, 10_000);
      await waitFor('no base said to be under way', () => !replicator.baseUnderWay, 10_000);
      const base = bases[1];
      expect(base.logInFile).toBe(true);
      expect(existsSync(path.join(base.baseDir, BASE_LOG))).toBe(false);
      expect(statSync(`${db}-wal`).size).toBe(0);
      // As the agent ships and restores it: position.json says the log is in the file.
      const restored = path.join(tempDir('replicator-base-wait-restored'), 'base');
      cpSync(base.baseDir, restored, { recursive: true });
      expect(readBase(restored).logInFile).toBe(true);
      // A standby that installs it holds every row of the burst, and goes on with the next log.
      const replica = new WalReplica(path.join(tempDir('replicator-base-wait-standby'), 'app.db'));
      replica.installBase(path.join(restored, 'base.db'), base.position, true);
      expect(existsSync(`${replica.dbPath}-wal`)).toBe(false);
      write(20, 2);
      await replicator.flush();
      for (;;) {
        const answer = await replicator.answer({ db: 'app.db', from: replica.position()!, token: 1 }, 1);
        if (answer.kind !== 'frames') {
          expect(answer.kind).toBe('current');
          break;
        }
        replica.apply(answer.batch);
      }
      replica.promote();
      expect(walRows(db)).toHaveLength(320);
      expect(walRows(replica.dbPath)).toEqual(walRows(db));
    } finally {
      await replicator.stop();
    }
  }, 60_000);
});
