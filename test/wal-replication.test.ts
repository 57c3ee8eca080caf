// 15.1 WAL-level replication of SQLite, on real databases: a service writing from a process of its own (with its
// automatic checkpoints and TRUNCATE checkpoints of its own), the follower handing its committed frames on, and a
// copy laying them down. The copy, opened by SQLite, is the primary's database at the last commit it was given.
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { isEngineError } from '@/lib/engine/errors';
import { FrameStore } from '@/lib/engine/replication/frame-store';
import { GenerationLost, type WalBatch, WalFollower, type WalPosition } from '@/lib/engine/replication/wal-follower';
import { frameBytes, parseWalHeader } from '@/lib/engine/replication/wal-format';
import { checkpointCopy, WalReplica } from '@/lib/engine/replication/wal-replica';

import { tempDir } from './helpers';
import { walDatabase, walRows } from './support/wal-database';
import { exitOf, pace, waitFor } from './support/wait';

const WRITER = path.join(import.meta.dirname, 'support', 'sqlite-writer.cjs');

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

/** A copy of the replica's files (the database and its log) as SQLite would open them after a promotion there: the
 *  logs that came while its log waited checkpointed in order first, as a promotion does. */
function snapshotOfReplica(replica: WalReplica, into: string): string {
  replica.settle();
  const replicaDb = replica.dbPath;
  const file = path.join(into, 'promoted.db');
  copyFileSync(replicaDb, file);
  if (existsSync(`${replicaDb}-wal`)) copyFileSync(`${replicaDb}-wal`, `${file}-wal`);
  return file;
}

function startWriter(db: string, transactions: number) {
  const child = spawn(process.execPath, [WRITER, db, String(transactions)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  return {
    child,
    result: () => JSON.parse(out) as { rows: number; truncateBusy: number },
  };
}

describe('15.1 WAL-level replication', () => {
  it('15.1 the copy is the primary’s database at every commit it was given, through the log’s restarts and the service’s own checkpoints', async () => {
    const dir = tempDir('wal-follow');
    const db = walDatabase(dir);
    const replica = new WalReplica(path.join(tempDir('wal-replica'), 'app.db'));
    const store = new FrameStore(path.join(tempDir('wal-store'), 'app.db'));
    const follower = new WalFollower(db);
    follower.open();
    const base = path.join(dir, 'base.db');
    const start = follower.beginGeneration(base);
    store.begin(start, existsSync(`${base}-wal`) ? `${base}-wal` : null, 'base');
    replica.installBase(base, start);

    const writer = startWriter(db, 500);
    const logs = new Set<string>();
    const keep = (batch: WalBatch) => {
      logs.add(`${batch.end.log?.salt1}:${batch.end.log?.salt2}`);
      store.append(batch);
    };
    // The copy takes what the store has at its own pace (every fifth round here): it is behind, often by logs.
    const catchUp = () => {
      for (let b = store.read(replica.position()!, 256 * 1024); b; b = store.read(replica.position()!, 256 * 1024))
        replica.apply(b);
    };
    let wholeCheckpoints = 0;
    const midway: string[] = [];
    try {
      for (let round = 0; writer.child.exitCode === null; round++) {
        const batch = follower.poll(256 * 1024);
        if (batch) keep(batch);
        // The follower checkpoints once the log is 200 frames long (the agent: a few MB).
        if (follower.logFrames() > 200 && follower.checkpoint(keep)) wholeCheckpoints++;
        if (round % 5 === 0) catchUp();
        // Now and then, the copy as a promotion would open it: a database that checks out, whose rows are whole
        // transactions (a prefix of the primary's, checked at the end).
        if (logs.size > (midway.length + 1) * 3 && midway.length < 3) {
          midway.push(snapshotOfReplica(replica, tempDir('wal-midway')));
        }
        // The follower reads the log every 5 ms, as the agent's replicator does.
        await pace(5);
      }
      await waitFor('the writer to exit', exitOf(writer.child), 60_000);
      for (let batch = follower.poll(); batch; batch = follower.poll()) keep(batch);
      catchUp();
    } finally {
      follower.close();
    }
    const { rows: written, truncateBusy } = writer.result();
    expect(writer.child.exitCode).toBe(0);
    // The log restarted under the follower (more often on an idle machine), each time after it had read it to its end.
    expect(wholeCheckpoints).toBeGreaterThan(1);
    expect(logs.size).toBeGreaterThan(1);
    // The service's own TRUNCATE checkpoints waited on the follower's read transaction, and gave up (10 asked).
    expect(truncateBusy).toBeGreaterThan(0);

    expect(replica.position()).toEqual(store.end());
    replica.promote();
    expect(existsSync(replica.walPath)).toBe(false);
    const primary = walRows(db);
    expect(primary.length).toBe(written);
    expect(integrity(replica.dbPath)).toBe('ok');
    expect(walRows(replica.dbPath)).toEqual(primary);
    expect(midway.length).toBeGreaterThan(0);
    for (const file of midway) {
      expect(integrity(file)).toBe('ok');
      const part = walRows(file);
      expect(part).toEqual(primary.slice(0, part.length));
      // Whole transactions only: the last one copied has all its rows.
      const last = part.at(-1);
      if (last)
        expect(part.filter((r) => r.txn === last.txn).length).toBe(primary.filter((r) => r.txn === last.txn).length);
    }
  }, 120_000);

  it('15.1 a database not in WAL mode, or held in locking_mode=EXCLUSIVE, is refused with a message that says what to change', async () => {
    const journal = walDatabase(tempDir('wal-journal'), false);
    const refusal = (() => {
      try {
        new WalFollower(journal, 'notes.db').open();
      } catch (err) {
        return err;
      }
    })();
    expect(isEngineError(refusal, 'invalid-argument')).toBe(true);
    expect((refusal as Error).message).toBe(
      'notes.db is not in WAL mode: replication follows its write-ahead log, so the service must set PRAGMA journal_mode=WAL (once; it is kept in the file)',
    );

    const exclusive = walDatabase(tempDir('wal-exclusive'));
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]);
         db.pragma('locking_mode = EXCLUSIVE');
         db.prepare('INSERT INTO t (txn) VALUES (1)').run();
         process.stdout.write('holding\\n');
         process.stdin.resume();`,
        exclusive,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'], cwd: path.resolve(import.meta.dirname, '..') },
    );
    try {
      let said = '';
      holder.stdout.on('data', (d) => {
        said += d;
      });
      await waitFor('the service to hold the database', () => said.includes('holding'), 20_000);
      const follower = new WalFollower(exclusive, 'notes.db');
      // Its busy timeout (5 s) runs out first.
      const err = (() => {
        try {
          follower.open();
        } catch (e) {
          return e;
        }
      })();
      expect(isEngineError(err, 'database-in-use')).toBe(true);
      expect((err as Error).message).toContain('locking_mode=EXCLUSIVE');
    } finally {
      holder.stdin.end();
      await waitFor('the holder to exit', exitOf(holder), 20_000);
    }
  }, 60_000);

  it('15.1 the copy refuses a gap, frames of another generation, and a frame altered on the way, writing nothing; a frame torn by a crash is not part of it', async () => {
    const dir = tempDir('wal-refuse');
    const db = walDatabase(dir);
    const replica = new WalReplica(path.join(tempDir('wal-refuse-replica'), 'app.db'));
    const follower = new WalFollower(db);
    follower.open();
    const base = path.join(dir, 'base.db');
    replica.installBase(base, follower.beginGeneration(base));
    const app = new Database(db);
    const write = (n: number) => {
      for (let i = 0; i < n; i++) app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)').run(i, Buffer.alloc(100, i));
    };
    try {
      write(3);
      const first = follower.poll(1)!;
      write(3);
      const second = follower.poll(1)!;
      expect(first && second).toBeTruthy();
      const before = replica.position()!;
      const files = () => (existsSync(replica.walPath) ? readFileSync(replica.walPath) : Buffer.alloc(0));
      const untouched = files();

      const refused = (batch: WalBatch, code: string, message: RegExp) => {
        let err: unknown;
        try {
          replica.apply(batch);
        } catch (e) {
          err = e;
        }
        expect(isEngineError(err)).toBe(true);
        expect((err as { code: string }).code).toBe(code);
        expect((err as Error).message).toMatch(message);
        expect(replica.position()).toEqual(before);
        expect(files().equals(untouched)).toBe(true);
      };
      refused(second, 'invalid-argument', /a gap, or frames already applied/);
      refused(
        { ...first, generation: 'another', after: { ...first.after, generation: 'another' } },
        'invalid-argument',
        /generation another/,
      );
      const altered = Buffer.from(first.frames);
      altered[altered.length - 10] ^= 1;
      refused({ ...first, frames: altered }, 'corrupt', /do not check out/);

      expect(replica.apply(first)).toEqual(first.end);
      // A crash while the next batch was written: half a frame at the end of the copy's log.
      const size = frameBytes(parseWalHeader(second.header)!);
      writeFileSync(replica.walPath, second.frames.subarray(0, size / 2), { flag: 'a' });
      expect(replica.position()).toEqual(first.end);
      expect(replica.apply(second)).toEqual(second.end);
      for (let b = follower.poll(); b; b = follower.poll()) replica.apply(b);
    } finally {
      app.close();
      follower.close();
    }
    replica.promote();
    expect(walRows(replica.dbPath)).toEqual(walRows(db));
  });

  it('15.1 the frames of the next logs are laid down beside the copy’s log while it waits to be checkpointed; a crash at any step of its checkpoint leaves the copy at its position, and a promotion makes it the primary’s database', () => {
    const dir = tempDir('wal-behind');
    const db = walDatabase(dir);
    const replicaDir = tempDir('wal-behind-replica');
    const replica = new WalReplica(path.join(replicaDir, 'app.db'));
    const app = new Database(db);
    app.pragma('wal_autocheckpoint = 0');
    let txn = 0;
    const write = () => app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)').run(++txn, Buffer.alloc(2000, txn));
    const follower = new WalFollower(db);
    follower.open();
    const logFiles = (d: string) =>
      readdirSync(d)
        .filter((name) => name.startsWith('app.db-wal'))
        .sort();
    try {
      const base = path.join(dir, 'base.db');
      replica.installBase(base, follower.beginGeneration(base));
      const keep = (b: WalBatch) => replica.apply(b);
      const follow = () => {
        for (let b = follower.poll(); b; b = follower.poll()) keep(b);
      };
      // The primary's log restarts three times (its follower's checkpoint seals it; the next write restarts it).
      for (let restart = 0; restart < 3; restart++) {
        write();
        write();
        follow();
        expect(follower.checkpoint(keep)).toBe(true);
      }
      write();
      follow();
      // The copy's log, and the three logs after it, none checkpointed here.
      expect(logFiles(replicaDir)).toEqual(['app.db-wal', 'app.db-wal.1', 'app.db-wal.2', 'app.db-wal.3']);
      expect(replica.waiting).toBe(true);
      const at = replica.position()!;
      expect(at).toEqual(follower.at);
      const rows = walRows(db);

      // Crashes, each on a copy of the standby's files: (1) the copy's log checkpointed into the file and removed,
      // the next not yet in its place; (2) that, and a fourth log torn as its header was written.
      const crashed = (name: string, step: (copyDb: string) => void) => {
        const copyDir = tempDir(`wal-behind-${name}`);
        cpSync(replicaDir, copyDir, { recursive: true });
        step(path.join(copyDir, 'app.db'));
        return new WalReplica(path.join(copyDir, 'app.db'));
      };
      const removed = crashed('removed', (copyDb) => checkpointCopy(copyDb));
      expect(existsSync(removed.walPath)).toBe(false);
      const torn = crashed('torn', (copyDb) => {
        checkpointCopy(copyDb);
        writeFileSync(`${copyDb}-wal.4`, Buffer.alloc(12, 7));
      });
      for (const copy of [removed, torn]) {
        expect(copy.position()).toEqual(at);
        expect(copy.promote()).toEqual(at);
        expect(walRows(copy.dbPath)).toEqual(rows);
      }
      // The torn log is no part of the copy.
      expect(existsSync(`${torn.dbPath}-wal.4`)).toBe(false);

      // The standby's own: its log checkpointed (as the puller's thread does), then the next takes its place, while
      // frames of the newest log go on being laid down.
      checkpointCopy(replica.dbPath);
      expect(replica.waiting).toBe(false);
      write();
      follow();
      replica.advance();
      expect(logFiles(replicaDir)).toEqual(['app.db-wal', 'app.db-wal.2', 'app.db-wal.3']);
      expect(replica.position()).toEqual(follower.at);
      expect(new WalReplica(replica.dbPath).position()).toEqual(follower.at);
    } finally {
      follower.close();
    }
    replica.promote();
    expect(logFiles(replicaDir)).toEqual([]);
    expect(walRows(replica.dbPath)).toEqual(walRows(db));
    expect(walRows(replica.dbPath).length).toBe(txn);
    app.close();
  });

  it('15.1 a log that the service’s own checkpoint completes between the follower’s checkpoint and its new read transaction, then restarts, is followed on: no new generation, and the copy is the database', () => {
    // The order the scheduler of a loaded machine gives now and then, made certain here: the follower's checkpoint
    // is kept short by a reader of the service's, which then ends, and the service's own checkpoint copies the rest
    // before the follower takes its new read transaction (which then reads the file alone).
    const dir = tempDir('wal-race');
    const db = walDatabase(dir);
    const replica = new WalReplica(path.join(tempDir('wal-race-replica'), 'app.db'));
    const app = new Database(db);
    app.pragma('wal_autocheckpoint = 0');
    const write = (txn: number) =>
      app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)').run(txn, Buffer.alloc(3000, txn));
    const follower = new WalFollower(db);
    follower.open();
    try {
      const base = path.join(dir, 'base.db');
      replica.installBase(base, follower.beginGeneration(base));
      const keep = (b: WalBatch) => replica.apply(b);
      write(1);
      // A reader of the service's, at the first write.
      const reader = new Database(db, { readonly: true });
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM t').get();
      write(2);
      // The service holds its write lock through the follower's checkpoint: the follower checkpoints without it
      // (and does not try again for a second).
      app.exec('BEGIN IMMEDIATE');
      follower.checkpoint(keep);
      app.exec('COMMIT');
      const logBefore = parseWalHeader(readFileSync(`${db}-wal`).subarray(0, 32))!;

      const hooked = follower as unknown as { passive: () => { whole: boolean; frames: number } };
      const passive = hooked.passive.bind(follower);
      hooked.passive = () => {
        const result = passive();
        hooked.passive = passive;
        // Kept short by the reader; the reader ends, and the service's checkpoint copies what is left.
        expect(result.whole).toBe(false);
        reader.exec('COMMIT');
        reader.close();
        const [own] = app.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
        expect(own.checkpointed).toBe(own.log);
        return result;
      };
      expect(follower.checkpoint(keep)).toBe(false);
      // The service's next write restarts the log.
      write(3);
      const logAfter = parseWalHeader(readFileSync(`${db}-wal`).subarray(0, 32))!;
      expect(logAfter.salt1).toBe(logBefore.salt1 + 1);
      for (let b = follower.poll(); b; b = follower.poll()) keep(b);
      write(4);
      for (let b = follower.poll(); b; b = follower.poll()) keep(b);
    } finally {
      follower.close();
    }
    const copy = snapshotOfReplica(replica, tempDir('wal-race-copy'));
    expect(walRows(copy).map((r) => r.txn)).toEqual([1, 2, 3, 4]);
    expect(walRows(copy)).toEqual(walRows(db));
    app.close();
  });

  it('15.1 a follower that was away takes up its generation where the log is unchanged, and starts a new one where it restarted; closing it never removes the log', async () => {
    const dir = tempDir('wal-resume');
    const db = walDatabase(dir);
    const replica = new WalReplica(path.join(tempDir('wal-resume-replica'), 'app.db'));
    const openApp = () => {
      const conn = new Database(db);
      conn.pragma('wal_autocheckpoint = 0');
      return conn;
    };
    let app = openApp();
    const write = (n: number) => {
      for (let i = 0; i < n; i++) app.prepare('INSERT INTO t (txn, body) VALUES (?, ?)').run(i, Buffer.alloc(300, i));
    };
    let follower = new WalFollower(db);
    follower.open();
    const base = path.join(dir, 'base.db');
    replica.installBase(base, follower.beginGeneration(base));
    write(5);
    for (let b = follower.poll(); b; b = follower.poll()) replica.apply(b);
    const left: WalPosition = follower.at!;
    const logBytes = statSync(`${db}-wal`).size;
    app.close();
    follower.close();
    // The follower's connections closed after the service's (the last to close checkpoints and removes the log,
    // unless it is read-only), yet the log is there, frames and all.
    expect(statSync(`${db}-wal`).size).toBe(logBytes);
    app = openApp();

    write(4);
    follower = new WalFollower(db);
    follower.open();
    follower.resume(left, (b) => replica.apply(b));
    write(2);
    for (let b = follower.poll(); b; b = follower.poll()) replica.apply(b);
    follower.close();
    const copy = snapshotOfReplica(replica, tempDir('wal-resume-copy'));
    expect(walRows(copy)).toEqual(walRows(db));

    // Away again, while the service checkpoints with TRUNCATE (nobody holds it back now) and writes on.
    const away = follower.at!;
    const [result] = app.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    expect(result.busy).toBe(0);
    write(3);
    follower = new WalFollower(db);
    follower.open();
    expect(() => follower.resume(away, (b) => replica.apply(b))).toThrow(GenerationLost);
    follower.close();
    app.close();
  });
});
