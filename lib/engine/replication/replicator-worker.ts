// Worker thread body for Replicator: follows one database's log on the primary (wal-follower.ts), keeps the
// frames in its store (frame-store.ts) and answers the standbys' pulls from it. SQLite calls and file reads block
// this thread only, never the one that renews the leader key and answers the failsafe question.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

import { isEngineError } from '../errors';
import { FrameStore } from './frame-store';
import { GenerationLost, type WalBatch, WalFollower } from './wal-follower';
import { answerPull, encodeAnswer, type PullRequest } from './wal-peer';
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

const keep = (batch: WalBatch) => store.append(batch);

/** A new generation: a base, and the store starts over from it. */
function newGeneration(why: string): void {
  const base = path.join(options.storeDir, 'base.db');
  const start = follower.beginGeneration(base);
  store.begin(start, start.log !== null && existsSync(`${base}-wal`) ? `${base}-wal` : null);
  say({ kind: 'generation', position: start, baseFile: base, why });
}

function round(): void {
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
    if (moved) say({ kind: 'position', position: store.end()! });
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
  say({ kind: 'stopped', position: store.end() });
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
    const bytes = encodeAnswer(answerPull(store, request.request as PullRequest, request.token));
    const copy = new Uint8Array(bytes);
    port.postMessage({ kind: 'answer', id: request.id, bytes: copy } satisfies ReplicatorMessage, [copy.buffer]);
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
      follower.resume(kept, keep);
      say({ kind: 'resumed', position: store.end()! });
    } catch (err) {
      if (!(err instanceof GenerationLost)) throw err;
      newGeneration(err.message);
    }
  } else newGeneration('the first');
  schedule();
} catch (err) {
  fail(err);
}
