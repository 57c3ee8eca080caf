// Repository locks: backups share, prune and key removal take the repository alone. A lock whose process is
// gone (same host) or that has not been refreshed for a while is stale and cleared by whoever finds it. A lock
// that cannot be read, or that is dated in the future, blocks nobody: it is reported and passed over, so that
// one bad file (damage, or a node's forgery) cannot stop every backup for ever.
import { randomBytes } from 'node:crypto';
import os from 'node:os';

import { z } from 'zod';

import { EngineError, fromSystemError, isEngineError } from '../errors';
import { type CrashPoint, crashPoint, stopAvoids } from '../test-hooks';
import { open, seal } from './crypto';
import type { Storage } from './storage';

const LOCK_CONTEXT = 'lifeline lock';
/** How often a held lock is refreshed (LIFELINE_TEST_LOCK_REFRESH_MS: tests make it short). */
const REFRESH_MS = Number(process.env.LIFELINE_TEST_LOCK_REFRESH_MS) || 60_000;
/** A lock not refreshed for this long belongs to a process that is gone or cut off. */
export const STALE_LOCK_MS = 10 * 60_000;
/** Clocks may disagree a little; a lock dated further ahead than this is not believed. */
export const LOCK_FUTURE_SLACK_MS = 5 * 60_000;

const lockRecordSchema = z.object({
  host: z.string().max(255),
  pid: z.number().int().nonnegative(),
  exclusive: z.boolean(),
  /** Solo locks (prune) also exclude each other while sharing the repository with backups. */
  solo: z.boolean().optional(),
  operation: z.string().max(100),
  time: z.number().int().nonnegative(),
  /** The node that took it through the control plane's storage API (absent for the control plane's own). */
  owner: z.string().max(100).optional(),
});

export type LockRecord = z.infer<typeof lockRecordSchema>;

/** Opens and checks a lock file; throws `corrupt` for anything that is not a lock record sealed with `key`. */
export function readLockRecord(key: Buffer, sealed: Buffer, name: string): LockRecord {
  const plain = open(key, sealed, LOCK_CONTEXT, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain.toString('utf8'));
  } catch {
    throw new EngineError('corrupt', `${name} is not a lock record`);
  }
  const result = lockRecordSchema.safeParse(parsed);
  if (!result.success) throw new EngineError('corrupt', `${name} is not a lock record`);
  return result.data;
}

export function sealLockRecord(key: Buffer, record: LockRecord): Buffer {
  return seal(key, Buffer.from(JSON.stringify(record)), LOCK_CONTEXT);
}

export interface HeldLock {
  /** Its object's name, `locks/<id>`. */
  readonly name: string;
  /** Fails with `locked` if the lock was lost: its file is gone (judged stale by another process, or removed by
   *  hand), or it went unrefreshed long enough for another process to judge it stale. */
  check(): Promise<void>;
  /** Without a look at storage, for each write: fails with `locked` if the lock is known lost, or went unrefreshed
   *  long enough to be judged stale (this process stalled). */
  assertFresh(): void;
  /** Writes what counts on the lock (an index, a snapshot): checks it before, and again after, since the process
   *  may stall between the two while another takes the lock away and prunes what the write refers to. A write
   *  that landed after the lock was lost is undone, and the lock's error thrown. */
  writeUnder<T>(point: CrashPoint, write: () => Promise<T>, undo: (written: T) => Promise<void>): Promise<T>;
  /** Aborted, with the `locked` error as its reason, as soon as the lock is found lost. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface LockOptions {
  exclusive: boolean;
  solo?: boolean;
  operation: string;
  /** How long to keep trying while another process holds a conflicting lock. */
  waitMs?: number;
  signal?: AbortSignal;
  /** The node taking the lock, recorded in it (the storage API accepts a node's own locks only). */
  owner?: string;
  /** Told about lock files that are passed over: unreadable, or dated in the future. */
  onIgnored?: (name: string, why: string) => void;
}

/** How long a restore or verify waits for a prune's sweep (which holds the repository alone) to finish. */
export const READER_LOCK_WAIT_MS = 10 * 60_000;

export interface ReaderLockOptions {
  /** False: read without a lock (a repository this process cannot write, such as a read-only mount). */
  lock?: boolean;
  lockWaitMs?: number;
  signal?: AbortSignal;
}

/** Runs `read` under a shared lock named `operation`, as backups hold one: prune's sweep, which deletes and
 *  repacks packs, waits until it is released, so what the reader planned to read stays there. */
export async function underReaderLock<T>(
  take: (options: LockOptions) => Promise<HeldLock>,
  operation: string,
  options: ReaderLockOptions,
  read: () => Promise<T>,
): Promise<T> {
  if (options.lock === false) return read();
  let held: HeldLock;
  try {
    held = await take({
      exclusive: false,
      operation,
      waitMs: options.lockWaitMs ?? READER_LOCK_WAIT_MS,
      signal: options.signal,
    });
  } catch (err) {
    if (isEngineError(err, 'locked')) throw err;
    const failed = fromSystemError(err, 'a lock file');
    throw new EngineError(
      failed.code,
      `${operation} takes a shared lock on the repository and could not write it: ${failed.message} (a repository that cannot be written can be read with --no-lock, while no prune runs)`,
      { cause: err },
    );
  }
  try {
    return await read();
  } finally {
    // What was read stands: a lock that could not be removed goes stale, and is cleared by whoever finds it.
    await held.release().catch(() => undefined);
  }
}

export async function acquireLock(storage: Storage, key: Buffer, options: LockOptions): Promise<HeldLock> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  const name = `locks/${randomBytes(16).toString('hex')}`;
  const record = (): LockRecord => ({
    host: os.hostname(),
    pid: process.pid,
    exclusive: options.exclusive,
    solo: options.solo,
    operation: options.operation,
    time: Date.now(),
    ...(options.owner ? { owner: options.owner } : {}),
  });
  let writtenAt = 0;
  for (let attempt = 0; ; attempt++) {
    let conflict = await findConflict(storage, key, options, name);
    if (!conflict) {
      const first = record();
      writtenAt = first.time;
      await storage.put(name, sealLockRecord(key, first));
      // Two processes may pass the check at once: look again with our lock in place and back off if needed.
      conflict = await findConflict(storage, key, options, name);
      if (!conflict) break;
      await storage.delete(name);
    }
    if (Date.now() >= deadline || options.signal?.aborted) {
      throw new EngineError(
        'locked',
        `the repository is locked by ${conflict.operation} (pid ${conflict.pid} on ${conflict.host}); try again when it has finished`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(250 * (attempt + 1), 2000)));
  }
  let refreshing: Promise<void> = Promise.resolve();
  let released = false;
  let refreshedAt = writtenAt;
  const lost = new AbortController();
  const lose = (why: string) => {
    clearInterval(timer);
    lost.abort(
      new EngineError('locked', `this job lost its repository lock (${why}); nothing was saved, run it again`),
    );
  };
  // A refresh never writes a lock that is gone: another process removed it because it judged it stale, and may
  // have pruned what this job wrote since. Nor one that went unrefreshed for nearly the stale limit (a stalled
  // process): another may have judged it stale and removed it, and the file seen now may be a stale read.
  // Plain storage has no "replace only if present", so between the look and the write there is a window; a lock
  // refreshed less than the stale limit ago is stale to nobody, so only a removal by hand can fall in it, and a
  // write that itself stalls past the limit is caught after it.
  const assertFresh = () => {
    if (!lost.signal.aborted && Date.now() - refreshedAt > STALE_LOCK_MS - REFRESH_MS)
      lose(`it went ${Math.round((Date.now() - refreshedAt) / 1000)} s without a refresh`);
    if (lost.signal.aborted) throw lost.signal.reason;
  };
  let inFlight = false;
  stopAvoids(() => inFlight);
  const refresh = async () => {
    inFlight = true;
    try {
      assertFresh();
      if (!(await storage.exists(name))) return lose('another process removed it, judging it stale');
      const written = record();
      await storage.put(name, sealLockRecord(key, written));
      // The write itself may have stalled past the limit, and brought back a lock that was removed meanwhile.
      if (Date.now() - refreshedAt > STALE_LOCK_MS - REFRESH_MS) {
        await storage.delete(name).catch(() => undefined);
        return lose(`its refresh took until ${Math.round((Date.now() - refreshedAt) / 1000)} s after the last`);
      }
      // Others judge the lock by the time written in it, not by when the write ended.
      refreshedAt = written.time;
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => {
    if (lost.signal.aborted || released) return;
    // A failed refresh is retried on the next tick.
    refreshing = refreshing.then(refresh).catch(() => undefined);
  }, REFRESH_MS);
  timer.unref();
  const check = async () => {
    await refreshing;
    assertFresh();
    if (!(await storage.exists(name))) lose('another process removed it, judging it stale');
    assertFresh();
  };
  let writes = 0;
  stopAvoids(() => writes > 0);
  return {
    name,
    lost: lost.signal,
    assertFresh,
    check,
    async writeUnder(point, write, undo) {
      await check();
      crashPoint(point);
      writes++;
      try {
        const written = await write();
        try {
          await check();
        } catch (err) {
          // Only a lost lock undoes the write; a storage error in the check says nothing about it.
          if (isEngineError(err, 'locked')) await undo(written).catch(() => undefined);
          throw err;
        }
        return written;
      } finally {
        writes--;
      }
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      // A refresh under way would write the lock file again after the delete.
      await refreshing;
      await storage.delete(name);
    },
  };
}

async function findConflict(
  storage: Storage,
  key: Buffer,
  wanted: LockOptions,
  own: string,
): Promise<LockRecord | null> {
  for (const { name } of await storage.list('locks')) {
    if (`locks/${name}` === own) continue;
    let lock: LockRecord;
    try {
      lock = readLockRecord(key, await storage.get(`locks/${name}`), `lock ${name.slice(0, 12)}`);
    } catch (err) {
      if (isEngineError(err, 'not-found')) continue;
      if (!isEngineError(err, 'corrupt')) throw err;
      wanted.onIgnored?.(name, `it cannot be read (${err.message})`);
      continue;
    }
    if (lock.time > Date.now() + LOCK_FUTURE_SLACK_MS) {
      wanted.onIgnored?.(name, `it is dated ${new Date(lock.time).toISOString()}, in the future`);
      continue;
    }
    if (isStale(lock)) {
      // Stale whether or not this process may remove it (a node's append-only access may not): skip it.
      await storage.delete(`locks/${name}`).catch(() => undefined);
      continue;
    }
    if (wanted.exclusive || lock.exclusive || (wanted.solo && lock.solo)) return lock;
  }
  return null;
}

/** On this host a lock is stale exactly when its process is gone; from another host, when it has not been
 *  refreshed for STALE_LOCK_MS. */
function isStale(lock: LockRecord): boolean {
  if (lock.host !== os.hostname()) return Date.now() - lock.time > STALE_LOCK_MS;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** What `lifeline unlock` does: removes the locks that are stale (their process is gone, or they went unrefreshed
 *  for STALE_LOCK_MS), or with `all` every lock, readable or not. Returns the names removed. */
export async function removeLocks(storage: Storage, key: Buffer, options: { all?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const { name } of await storage.list('locks')) {
    if (!options.all) {
      let lock: LockRecord;
      try {
        lock = readLockRecord(key, await storage.get(`locks/${name}`), `lock ${name.slice(0, 12)}`);
      } catch (err) {
        if (isEngineError(err, 'not-found') || isEngineError(err, 'corrupt')) continue;
        throw err;
      }
      if (!isStale(lock)) continue;
    }
    await storage.delete(`locks/${name}`);
    removed.push(name);
  }
  return removed;
}
