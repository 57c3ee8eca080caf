// Worker thread body for Replicator: follows one database's log on the primary (wal-follower.ts), keeps the
// frames in its store (frame-store.ts) and answers the standbys' pulls from it. SQLite calls and file reads block
// this thread only, never the one that renews the leader key and answers the failsafe question.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

import { isEngineError } from '../errors';
import { FrameStore } from './frame-store';
import { GenerationLost, type WalBatch, WalFollower } from './wal-follower';
import { replaceFileSync, syncPath } from './sync-files';
import { answerPull, type PullRequest } from './wal-peer';
import type { ReplicatorMessage, ReplicatorOptions, ReplicatorRequest } from './replicator';

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

const keep = (batch: WalBatch) => store.append(batch);

/** A new generation: a base, and the store starts over from it. The base is written to a directory of its own
 *  (bases/<generation>: base.db, base.db-wal where the log has a part, position.json), which stays until the agent
 *  has shipped it and removes it: the next generation never writes over a base being read. */
function newGeneration(why: string): void {
  const bases = path.join(options.storeDir, 'bases');
  const next = path.join(bases, 'next');
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true, mode: 0o700 });
  const startedAt = Date.now();
  const start = follower.beginGeneration(path.join(next, 'base.db'));
  replaceFileSync(path.join(next, 'position.json'), JSON.stringify(start));
  const dir = path.join(bases, start.generation);
  renameSync(next, dir);
  syncPath(bases);
  const base = path.join(dir, 'base.db');
  store.begin(start, start.log !== null && existsSync(`${base}-wal`) ? `${base}-wal` : null);
  caughtUpAt = startedAt;
  say({ kind: 'generation', position: start, baseDir: dir, why });
}

function round(): void {
  const startedAt = Date.now();
  try {
    let moved = false;
    for (let batch = follower.poll(); batch; batch = follower.poll()) {
      keep(batch);
      moved = true;
    }
    if (follower.logFrames() >= options.checkpointFrames) {
      follower.checkpoint(keep);
      moved = true;
    }
    caughtUpAt = startedAt;
    if (moved || startedAt - saidAt >= SAY_EVERY_MS) {
      say({ kind: 'position', position: store.end()!, at: startedAt });
      saidAt = startedAt;
    }
    if (Date.now() - syncedAt >= SYNC_EVERY_MS) {
      store.sync();
      syncedAt = Date.now();
    }
  } catch (err) {
    if (!(err instanceof GenerationLost)) throw err;
    newGeneration(err.message);
  }
}

function schedule(): void {
  if (stopped) return;
  timer = setTimeout(() => {
    try {
      round();
      schedule();
    } catch (err) {
      fail(err);
    }
  }, options.pollMs);
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
  say({ kind: 'stopped', position: store.end(), at: caughtUpAt });
  port.close();
}

port.on('message', (request: ReplicatorRequest) => {
  if (request.kind === 'stop') {
    if (!stopped) {
      // What the log holds now is kept before the follower lets go of it.
      try {
        round();
      } catch {}
      stop();
    }
    return;
  }
  if (request.kind === 'pull') {
    const answer = answerPull(store, request.request as PullRequest, request.token, caughtUpAt);
    port.postMessage({ kind: 'answer', id: request.id, answer } satisfies ReplicatorMessage);
    return;
  }
  if (request.kind === 'flush') {
    // Everything the log holds now, kept and put on disk (the service has stopped: a switchover's last frames).
    try {
      if (!stopped) round();
      store.sync();
      port.postMessage({ kind: 'flushed', id: request.id, at: caughtUpAt } satisfies ReplicatorMessage);
    } catch (err) {
      fail(err);
    }
    return;
  }
  if (request.kind === 'shipped') {
    // A base the agent has put in the repository: no longer needed here (nor any older one).
    for (const name of readdirSync(path.join(options.storeDir, 'bases'), { withFileTypes: true }))
      if (name.name !== store.generation && name.name !== 'next')
        rmSync(path.join(options.storeDir, 'bases', name.name), { recursive: true, force: true });
    if (request.generation === store.generation)
      rmSync(path.join(options.storeDir, 'bases', request.generation), { recursive: true, force: true });
    return;
  }
  if (request.kind === 'new-base') {
    try {
      newGeneration('a new base was asked for');
    } catch (err) {
      fail(err);
    }
  }
});

try {
  follower.open();
  const kept = store.end();
  if (kept) {
    try {
      const startedAt = Date.now();
      follower.resume(kept, keep);
      caughtUpAt = startedAt;
      // The base of this generation, if the agent had not shipped it yet.
      const base = path.join(options.storeDir, 'bases', store.generation!);
      say({
        kind: 'resumed',
        position: store.end()!,
        at: caughtUpAt,
        baseDir: existsSync(path.join(base, 'position.json')) ? base : null,
      });
    } catch (err) {
      if (!(err instanceof GenerationLost)) throw err;
      newGeneration(err.message);
    }
  } else newGeneration('the first');
  schedule();
} catch (err) {
  fail(err);
}
