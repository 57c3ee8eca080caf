// Worker thread body for Replicator: follows one database's log on the primary (wal-follower.ts), keeps the
// frames in its store (frame-store.ts) and answers the standbys' pulls from it. SQLite calls and file reads block
// this thread only, never the one that renews the leader key and answers the failsafe question.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

import Database from 'better-sqlite3';

import { isEngineError } from '../errors';
import { FrameStore } from './frame-store';
import { GenerationLost, samePosition, type WalBatch, WalFollower, type WalPosition } from './wal-follower';
import { copyInSteps, replaceFileSync, syncPath } from './sync-files';
import { answerPull, type PullRequest } from './wal-peer';
import {
  BASE_LOG,
  basePositionJson,
  type ReplicatorFigures,
  type ReplicatorMessage,
  type ReplicatorOptions,
  type ReplicatorRequest,
} from './replicator';

const options = workerData as ReplicatorOptions;
const port = parentPort!;
const say = (message: ReplicatorMessage) => port.postMessage(message);

const store = new FrameStore(options.storeDir);
const follower = new WalFollower(options.dbPath, options.shownAs);
let stopped = false;
/** The store's current log is put on disk this often (frame-store.ts: what a machine crash costs). */
const SYNC_EVERY_MS = 1000;
let syncedAt = 0;
let timer: NodeJS.Timeout | null = null;
/** When the store last held everything committed in the log (the start of the round that read it to its end). */
let caughtUpAt: number | null = null;
/** When the position was last said: said at least this often, moved or not, so the agent's time goes on. */
const SAY_EVERY_MS = 500;
let saidAt = 0;

/** What this thread has written since it began (the bench's measure of the primary's cost, per byte of log). */
const figures: ReplicatorFigures = { logBytes: 0, bases: 0, baseBytes: 0, newestBase: null };
/** The log copied when the position of the base last taken was fixed (null: none taken since the thread began). */
let logAtBase: number | null = null;

const keep = (batch: WalBatch) => {
  store.append(batch);
  figures.logBytes += batch.frames.length;
};

/** Counts a base's files, as written, in the figures; `logAt`: the log copied when its position was fixed. */
function counted(dir: string, logAt: number): void {
  const bytes = readdirSync(dir).reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0);
  figures.bases++;
  figures.baseBytes += bytes;
  figures.newestBase = { bytes, logBytesBefore: logAtBase === null ? null : logAt - logAtBase };
  logAtBase = logAt;
}

/** The ends of the last rounds, each with the time its round began: a pull from one of them, or past it,
 *  acknowledges every transaction committed before that time (ackedAt). */
const ENDS_KEPT = 4096;
let ends: { position: WalPosition; at: number }[] = [];

function noteEnd(position: WalPosition, at: number): void {
  const last = ends.at(-1);
  if (last && samePosition(last.position, position)) last.at = at;
  else ends.push({ position, at });
  if (ends.length > ENDS_KEPT) ends = ends.slice(-ENDS_KEPT / 2);
}

/** The time before which every transaction was committed at or before `position`: the start of the newest round
 *  whose end it holds (an end in its log at or before its frame, or in a log before its own). Null where none of
 *  the rounds kept is known to be held. */
function ackedAt(position: WalPosition): number | null {
  const mine = store.logIndex(position.log);
  if (mine === null) return null;
  for (let i = ends.length - 1; i >= 0; i--) {
    const end = ends[i].position;
    if (end.generation !== position.generation) continue;
    const theirs = store.logIndex(end.log);
    if (theirs === null) continue;
    if (theirs === mine ? end.frame <= position.frame : theirs < mine) return ends[i].at;
  }
  return null;
}

/** Pulls held for frames to come (a long poll), answered after the round that brings some, or at their time. */
let held: {
  id: number;
  request: PullRequest;
  token: number;
  by: string | null;
  ackedAt: number | null;
  until: number;
}[] = [];

/** Says that standby `by` holds every transaction committed before `at`. */
function acked(by: string | null, at: number | null): void {
  // A pull by nobody in particular (its source's address is not its member's) acknowledges nothing.
  if (at !== null && by !== null) port.postMessage({ kind: 'acked', by, at } satisfies ReplicatorMessage);
}

function answer(id: number, request: PullRequest, token: number, acked: number | null): void {
  const reply = answerPull(store, request, token, caughtUpAt);
  // Frames that stop short of the end (a pull's worth): the standby holds what was committed before the newest
  // round whose end they reach.
  if (reply.kind === 'frames' && reply.at === null) reply.at = ackedAt(reply.batch.end);
  port.postMessage({ kind: 'answer', id, answer: reply, ackedAt: acked } satisfies ReplicatorMessage);
}

/** The end of the frames kept when the held pulls were last looked at. */
let heldEnd: WalPosition | null = null;

/** Answers the held pulls if frames were kept since they were last looked at (`moved`: at any rate), else those
 *  whose time is up. */
function answerHeld(moved = false): void {
  const end = store.end();
  moved ||= end !== null && (heldEnd === null || !samePosition(heldEnd, end));
  heldEnd = end;
  const now = Date.now();
  const still: typeof held = [];
  for (const pull of held)
    if (moved || stopped || now >= pull.until) answer(pull.id, pull.request, pull.token, pull.ackedAt);
    else still.push(pull);
  held = still;
}

/** Where a base is written before it is complete (bases/.taking-<time>): never taken for one. */
const TAKING = '.taking-';

function takingDir(): string {
  const dir = path.join(options.storeDir, 'bases', `${TAKING}${Date.now()}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Completes a base written to `taking`: its position beside it, and the directory renamed to one of its own,
 *  bases/<generation>-<time> (base.db, base.log where the log has a part, position.json), which stays until the
 *  agent has shipped it (or a newer one) and removes it: a later base never writes over one being read. */
function completeBase(
  taking: string,
  position: WalPosition,
  logInFile = false,
): { dir: string; baseLog: string | null } {
  // The log's part named so that a backup of the directory takes it as a file of its own, not a database's sidecar
  // to pass over; before position.json, whose write syncs the directory: a base that survives a crash has it.
  const logPart = path.join(taking, 'base.db-wal');
  const hasLog = position.log !== null && !logInFile && existsSync(logPart);
  if (hasLog) renameSync(logPart, path.join(taking, BASE_LOG));
  replaceFileSync(path.join(taking, 'position.json'), basePositionJson(position, logInFile));
  const bases = path.join(options.storeDir, 'bases');
  const dir = path.join(bases, `${position.generation}-${Date.now()}`);
  renameSync(taking, dir);
  syncPath(bases);
  return { dir, baseLog: hasLog ? path.join(dir, BASE_LOG) : null };
}

/** A new generation (the first, or the log's chain was broken): a base, and the store starts over from it. */
function newGeneration(why: string): void {
  const startedAt = Date.now();
  // A base of the previous generation being copied, or one due, is given up.
  if (taking) taking.cancelled = true;
  taking = null;
  baseDueSince = null;
  const written = takingDir();
  const start = follower.beginGeneration(path.join(written, 'base.db'));
  const { dir, baseLog } = completeBase(written, start);
  counted(dir, figures.logBytes);
  store.begin(start, baseLog, path.basename(dir));
  caughtUpAt = startedAt;
  ends = [];
  noteEnd(start, startedAt);
  say({ kind: 'base', position: start, baseDir: dir, logInFile: false, why });
  // Held pulls are of the previous generation: they are answered that a base is needed.
  answerHeld(true);
}

/** A base of the generation being taken (its database file is copied off this thread, in steps each put on disk:
 *  the rounds go on, reading the log and answering pulls, but make no checkpoint until it is done). */
let taking: { cancelled: boolean } | null = null;

/** A new base of the generation, where the follower is (15.2): the standbys that follow along go on as they were;
 *  a new one starts from it, and once it is shipped the frames before older bases may go. */
function newBase(why: string): void {
  if (taking) return;
  const written = takingDir();
  const { position, logInFile } = follower.takeBase(path.join(written, 'base.db'), keep);
  const logAt = figures.logBytes;
  const under = { cancelled: false };
  taking = under;
  copyInSteps(options.dbPath, path.join(written, 'base.db'), () => under.cancelled || stopped)
    .then(() => {
      if (under.cancelled || stopped) throw new Error('given up');
      const { dir } = completeBase(written, position, logInFile);
      counted(dir, logAt);
      store.addBase(path.basename(dir), position);
      say({ kind: 'base', position, baseDir: dir, logInFile, why });
    })
    .catch((err: Error) => {
      rmSync(written, { recursive: true, force: true });
      if (!under.cancelled && !stopped) fail(err);
    })
    .finally(() => {
      if (taking === under) {
        taking = null;
        follower.unpin();
      }
    });
}

/** How much of the log a round reads before it answers the pulls held: a burst of writes, or a disk that stalls
 *  the writes to the store, is handed on in parts, the next round at once. */
const ROUND_BYTES = 4 * 2 ** 20;

/** Reads the log into the store, about `limit` bytes of it at most (whole transactions); says whether it read to
 *  the end. */
function readLog(limit: number): boolean {
  for (let bytes = 0; bytes < limit; ) {
    const batch = follower.poll();
    if (!batch) return true;
    keep(batch);
    bytes += batch.frames.length;
  }
  return false;
}

/** A round longer than this is said, with its slow steps: pulls wait while a round runs. */
const SLOW_ROUND_MS = 500;
/** At most one word on slow rounds this often. */
const SLOW_SAID_EVERY_MS = 10_000;
let slowSaidAt = 0;

/** A round: the log read (up to ROUND_BYTES, or `whole`), the held pulls answered, then what makes no standby wait
 *  (a checkpoint, the store put on disk, a base). Returns whether it read the log to its end. */
function round(whole = false): boolean {
  const startedAt = Date.now();
  const steps: string[] = [];
  /** Runs a step of the round, noting it where it took a while. */
  const step = <T>(name: string, fn: () => T): T => {
    const began = Date.now();
    try {
      return fn();
    } finally {
      const ms = Date.now() - began;
      if (ms >= SLOW_ROUND_MS / 5) steps.push(`${name} ${ms} ms`);
    }
  };
  let toEnd = true;
  try {
    const before = store.end();
    toEnd = step('reading the log', () => readLog(whole ? Number.POSITIVE_INFINITY : ROUND_BYTES));
    if (toEnd) {
      caughtUpAt = startedAt;
      noteEnd(store.end()!, startedAt);
    }
    const moved = !samePosition(before!, store.end()!);
    // The standbys first: nothing after this makes them wait (frames a checkpoint reads go out with the next round).
    answerHeld();
    if (moved || startedAt - saidAt >= SAY_EVERY_MS) {
      say({
        kind: 'position',
        position: store.end()!,
        at: caughtUpAt,
        figures,
        baseUnderWay: taking !== null || baseDueSince !== null,
      });
      saidAt = startedAt;
    }
    if (toEnd && follower.logFrames() >= options.checkpointFrames)
      step('checkpointing', () => follower.checkpoint(keep));
    if (store.unsaved || Date.now() - syncedAt >= SYNC_EVERY_MS) {
      step('syncing the frames to disk', () => store.sync());
      syncedAt = Date.now();
    }
    const why = taking || !toEnd ? null : newBaseDue();
    // A base no longer due (the frames kept were shipped away meanwhile) waits no more.
    if (toEnd && !why && !taking) baseDueSince = null;
    // A round that reads the whole log (a flush, or the last before the thread stops) leaves the log as it is: a log
    // emptied just before the agent stops would make it begin a new generation when it starts again (resume).
    const waited = why ? baseMayBeTaken(startedAt, !whole) : null;
    if (why && waited !== null)
      step('taking a base', () =>
        newBase(
          waited >= BASE_WAIT_MS
            ? `${why}; its log (${follower.framesInLog()} frames) had neither restarted nor been emptied ${Math.round(waited / 1000)} s after the base fell due: the base carries it`
            : why,
        ),
      );
  } catch (err) {
    if (!(err instanceof GenerationLost)) throw err;
    step('beginning a generation', () => newGeneration(err.message));
  }
  const ms = Date.now() - startedAt;
  if (ms >= SLOW_ROUND_MS && startedAt - slowSaidAt >= SLOW_SAID_EVERY_MS) {
    slowSaidAt = startedAt;
    say({ kind: 'slow', ms, steps });
  }
  return toEnd;
}

/** SQLite's own check of the whole database, on a connection of its own (a read: the service writes on). */
function checkIntegrity(): void {
  const db = new Database(options.dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('integrity_check(20)') as { integrity_check: string }[];
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    say({ kind: 'integrity', ok: problems.length === 0, problems });
  } finally {
    db.close();
  }
}

/** How long a base that is due waits for a log longer than a checkpoint's worth to be sealed. */
const BASE_WAIT_MS = 30_000;
let baseDueSince: number | null = null;

/** Whether a base that is due may be taken now: how long it waited, or null. A base carries the part of the log
 *  its position is in (standbys that start from it go on with that log), and after a burst of writes the log is as
 *  long as the burst, most of it in the database's file already: the base waits for a checkpoint to seal the log
 *  and for the log to restart (the service's next write) or be emptied (if the service has gone quiet), rather than
 *  carry the burst twice; up to BASE_WAIT_MS. */
function baseMayBeTaken(now: number, mayEmpty: boolean): number | null {
  baseDueSince ??= now;
  const since = baseDueSince;
  const ready =
    follower.framesInLog() < options.checkpointFrames ||
    (mayEmpty && follower.emptySealed(keep)) ||
    now - since >= BASE_WAIT_MS;
  if (!ready) return null;
  baseDueSince = null;
  return now - since;
}

/** Why a new base is due now (15.2), or null. */
function newBaseDue(): string | null {
  const age = Date.now() - (store.startedAt ?? Date.now());
  if (options.baseEveryMs && age >= options.baseEveryMs)
    return `its base is ${Math.round(age / 60_000)} minutes old: a new one is due`;
  if (options.storeLimitBytes) {
    const limit = Math.max(options.storeLimitBytes, statSync(options.dbPath).size);
    // The frames since the base: the base's own part of the log (however long the log was) is not counted.
    const kept = store.framesBytes();
    if (kept > limit)
      return `the frames kept since its base (${Math.round(kept / 2 ** 20)} MiB) outgrew ${Math.round(limit / 2 ** 20)} MiB`;
  }
  return null;
}

function schedule(ms: number): void {
  if (stopped) return;
  timer = setTimeout(() => {
    try {
      // The rest of a log read in part, at once (pulls that came meanwhile are answered first).
      schedule(round() ? options.pollMs : 0);
    } catch (err) {
      fail(err);
    }
  }, ms);
}

function fail(err: unknown): void {
  say({
    kind: 'error',
    code: isEngineError(err) ? err.code : null,
    message: err instanceof Error ? err.message : String(err),
  });
  stop();
}

function stop(): void {
  stopped = true;
  if (timer) clearTimeout(timer);
  follower.close();
  store.sync();
  answerHeld(true);
  say({ kind: 'stopped', position: store.end(), at: caughtUpAt });
  port.close();
}

port.on('message', (request: ReplicatorRequest) => {
  if (request.kind === 'stop') {
    if (!stopped) {
      // What the log holds now is kept before the follower lets go of it.
      try {
        round(true);
      } catch {}
      stop();
    }
    return;
  }
  if (request.kind === 'pull') {
    const pull = request.request as PullRequest;
    // The position it pulls from is the standby's acknowledgment, taken (and said) as it arrives.
    const at = pull.from ? ackedAt(pull.from as WalPosition) : null;
    acked(request.by, at);
    const waitMs = pull.waitMs ?? 0;
    if (waitMs > 0 && !stopped && answerPull(store, pull, request.token, caughtUpAt).kind === 'current')
      held.push({
        id: request.id,
        request: pull,
        token: request.token,
        by: request.by,
        ackedAt: at,
        until: Date.now() + waitMs,
      });
    else answer(request.id, pull, request.token, at);
    return;
  }
  if (request.kind === 'flush') {
    // Everything the log holds now, kept and put on disk (the service has stopped: a switchover's last frames).
    try {
      if (!stopped) round(true);
      store.sync();
      // A standby whose held pull is at the end after this round holds everything committed before it.
      const end = store.end();
      for (const pull of held)
        if (end && pull.request.from && samePosition(pull.request.from as WalPosition, end)) acked(pull.by, caughtUpAt);
      port.postMessage({ kind: 'flushed', id: request.id, at: caughtUpAt } satisfies ReplicatorMessage);
    } catch (err) {
      fail(err);
    }
    return;
  }
  if (request.kind === 'shipped') {
    // A base the agent has put in the repository: its files, and those of every older base, no longer needed here.
    try {
      store.shipped(request.id);
      for (const name of readdirSync(path.join(options.storeDir, 'bases')))
        if (!name.startsWith(TAKING) && (name <= request.id || !name.startsWith(`${store.generation}-`)))
          rmSync(path.join(options.storeDir, 'bases', name), { recursive: true, force: true });
    } catch (err) {
      fail(err);
    }
    return;
  }
  if (request.kind === 'new-generation') {
    try {
      newGeneration('a new generation was asked for');
    } catch (err) {
      fail(err);
    }
  }
});

try {
  // What a base being taken when the thread last ended left.
  mkdirSync(path.join(options.storeDir, 'bases'), { recursive: true, mode: 0o700 });
  for (const name of readdirSync(path.join(options.storeDir, 'bases')))
    if (name.startsWith(TAKING) || name === 'next')
      rmSync(path.join(options.storeDir, 'bases', name), { recursive: true, force: true });
  follower.open();
  const kept = store.end();
  if (kept) {
    try {
      const startedAt = Date.now();
      follower.resume(kept, keep);
      caughtUpAt = startedAt;
      // The newest base of this generation, if the agent had not shipped it yet.
      const unshipped = store.bases.at(-1);
      const base = unshipped && !unshipped.shipped ? path.join(options.storeDir, 'bases', unshipped.id) : null;
      say({
        kind: 'resumed',
        position: store.end()!,
        at: caughtUpAt,
        baseDir: base && existsSync(path.join(base, 'position.json')) ? base : null,
      });
    } catch (err) {
      if (!(err instanceof GenerationLost)) throw err;
      newGeneration(err.message);
    }
  } else newGeneration('the first');
  if (options.checkIntegrity) checkIntegrity();
  schedule(options.pollMs);
} catch (err) {
  fail(err);
}
