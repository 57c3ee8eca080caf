// Worker thread body for ReplicaPuller: on a standby, pulls one database's frames from the primary it follows
// and lays them onto the copy (wal-replica.ts), continuously, on this thread: applying never holds up the agent's
// thread, so a standby busy applying still answers its health checks and its peers. When the primary's log
// restarts, the copy's log is checkpointed into its file on a thread of its own (copy-checkpoint-worker.ts) while
// this one goes on laying down the frames of the next logs.
import path from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';

import { isEngineError } from '../errors';
import type { CopyCheckpointResult } from './copy-checkpoint-worker';
import { pullFrames } from './wal-peer';
import type { WalBatch, WalPosition } from './wal-follower';
import { WalReplica } from './wal-replica';
import type { PullerMessage, PullerOptions, PullerRequest, Primary } from './puller';

const options = workerData as PullerOptions;
const port = parentPort!;
const say = (message: PullerMessage) => port.postMessage(message);
const replica = new WalReplica(options.dbPath);

let primary: Primary | null = null;
/** Pulling waits for the agent: a base to install, or a primary to follow. */
let waiting: 'base' | 'primary' | null = 'primary';
let stopped = false;
let running = false;
let wake: (() => void) | null = null;

/** An apply (or a checkpoint beside the applies) longer than this is said, at most once every SLOW_SAID_EVERY_MS. */
const SLOW_APPLY_MS = 500;
const SLOW_SAID_EVERY_MS = 10_000;
let slowSaidAt = 0;

/** The number of logs waiting behind the copy's log, as last said. */
let saidWaiting = 0;

/** Says how many logs wait behind the copy's log, where that changed. */
function sayWaiting(): void {
  if (replica.behind !== saidWaiting) {
    saidWaiting = replica.behind;
    say({ kind: 'waiting', logs: saidWaiting });
  }
}

/** Lays a batch down on the copy, saying so where it was slow. */
function apply(batch: WalBatch): WalPosition {
  const began = Date.now();
  const position = replica.apply(batch);
  const ms = Date.now() - began;
  if (ms >= SLOW_APPLY_MS && began - slowSaidAt >= SLOW_SAID_EVERY_MS) {
    slowSaidAt = began;
    say({ kind: 'slow', ms, beside: false });
  }
  return position;
}

/** Logs that may wait behind the copy's log (about 4 MB each) before frames wait for its checkpoint. */
const MAX_BEHIND = 16;
/** The thread that checkpoints the copy's log (started when first needed). */
let checkpointer: Worker | null = null;
/** The checkpoint running there: true once it is done and the next log took the log's place, false if it failed
 *  (said; tried again after the next frames). */
let checkpointing: Promise<boolean> | null = null;

/** No new checkpoint starts (a base is being installed, or the copy promoted or left). */
let held = false;

/** Checkpoints the copy's log off this thread where a newer log waits behind it; resolves as checkpointing. */
function checkpointBehind(): Promise<boolean> {
  if (checkpointing) return checkpointing;
  if (held) return Promise.resolve(false);
  try {
    // A checkpoint that completed before the thread last ended, but whose next log had not taken its place.
    replica.advance();
    if (!replica.waiting) return Promise.resolve(true);
  } catch (err) {
    say({ kind: 'error', code: isEngineError(err) ? err.code : null, message: (err as Error).message });
    return Promise.resolve(false);
  }
  checkpointer ??= new Worker(path.join(__dirname, 'copy-checkpoint-worker.cjs'), {
    workerData: { dbPath: options.dbPath },
  });
  const thread = checkpointer;
  checkpointing = new Promise<CopyCheckpointResult>((resolve) => {
    const failed = (err: Error) => {
      if (checkpointer === thread) checkpointer = null;
      resolve({ ms: 0, error: { code: null, message: err.message } });
    };
    thread.once('error', failed);
    thread.once('message', (result: CopyCheckpointResult) => {
      thread.off('error', failed);
      resolve(result);
    });
    thread.postMessage('checkpoint');
  }).then((result) => {
    checkpointing = null;
    if (result.error) {
      say({ kind: 'error', ...result.error });
      return false;
    }
    if (result.ms >= SLOW_APPLY_MS && Date.now() - slowSaidAt >= SLOW_SAID_EVERY_MS) {
      slowSaidAt = Date.now();
      say({ kind: 'slow', ms: result.ms, beside: true });
    }
    try {
      replica.advance();
      sayWaiting();
    } catch (err) {
      say({ kind: 'error', code: null, message: (err as Error).message });
      return false;
    }
    void checkpointBehind();
    return true;
  });
  return checkpointing;
}

const pause = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });

async function loop(): Promise<void> {
  if (running) return;
  running = true;
  let failures = 0;
  try {
    while (!stopped) {
      // With no base yet, the primary is asked all the same: it answers with the generation to start from.
      const from = replica.position();
      if (waiting || !primary) {
        await pause(60_000);
        continue;
      }
      const following = primary;
      const sentAt = Date.now();
      try {
        // Held by the primary until frames come (up to waitMs): they are laid down as soon as they are written.
        const answer = await pullFrames(
          following.url,
          { nodeId: options.nodeId, groupKey: following.groupKey },
          { db: options.db, from, token: following.token, ...(options.waitMs ? { waitMs: options.waitMs } : {}) },
          options.timeoutMs,
        );
        if (answer.kind !== 'not-primary') failures = 0;
        // The agent may have named another primary, asked for a stop, or installed a base, while the pull was out:
        // the answer is to a question no longer asked.
        if (stopped || primary !== following || replica.position() !== from) continue;
        if (answer.kind === 'frames') {
          if (!from) throw new Error('the primary sent frames to a copy that has no base');
          // Too many logs wait behind the copy's log: the frames wait for its checkpoint.
          while (replica.behind >= MAX_BEHIND && !stopped)
            if (!(await checkpointBehind())) await pause(options.pollMs * 10);
          if (stopped || primary !== following || replica.position() !== from) continue;
          say({ kind: 'position', position: apply(answer.batch), at: answer.at });
          sayWaiting();
          void checkpointBehind();
        } else if (answer.kind === 'current') {
          say({ kind: 'position', position: from, at: answer.at });
          // A primary that did not hold the pull (it stopped writing for good): not asked again at once.
          if (Date.now() - sentAt < options.pollMs) await pause(options.pollMs);
        } else if (answer.kind === 'base-needed') {
          // Until the agent has installed one, or asks again (it found none of that generation).
          waiting = 'base';
          say({ kind: 'base-needed', why: answer.why, generation: answer.generation });
        } else {
          // Not (yet, or any more) the primary of that token: a node that took the key replicates only once its
          // service serves. Asked again, later and later, until the agent names another primary.
          failures++;
          say({ kind: 'not-primary', why: answer.why });
          await pause(Math.min(5000, options.pollMs * 2 ** Math.min(failures, 8)));
        }
      } catch (err) {
        failures++;
        say({
          kind: 'error',
          code: isEngineError(err) ? err.code : null,
          message: err instanceof Error ? err.message : String(err),
        });
        // A primary out of reach, or frames refused: again, later and later (up to 5 s).
        await pause(Math.min(5000, options.pollMs * 2 ** Math.min(failures, 8)));
      }
    }
  } finally {
    running = false;
  }
}

/** Lets the checkpoint running end, and starts none until `held` is cleared. */
async function holdCheckpoints(): Promise<void> {
  held = true;
  while (checkpointing) await checkpointing;
}

/** Requests are handled one at a time, in order (some wait for a checkpoint to end). */
let handling = Promise.resolve();
port.on('message', (request: PullerRequest) => {
  handling = handling.then(() => handle(request));
});

async function handle(request: PullerRequest): Promise<void> {
  try {
    switch (request.kind) {
      case 'follow':
        // Another primary may have another generation: it is asked.
        primary = request.primary;
        if (waiting === 'primary' || waiting === 'base') waiting = null;
        break;
      case 'ask':
        // At once (the agent found no base of the generation it was told of, or must know if the primary is there).
        if (waiting === 'base') waiting = null;
        break;
      case 'install-base':
        try {
          await holdCheckpoints();
          replica.installBase(request.baseFile, request.position, request.logInFile);
        } catch (err) {
          say({
            kind: 'installed',
            error: { code: isEngineError(err) ? err.code : null, message: (err as Error).message },
          });
          break;
        } finally {
          held = false;
        }
        waiting = primary ? null : 'primary';
        say({ kind: 'position', position: request.position, at: null });
        sayWaiting();
        say({ kind: 'installed', error: null });
        break;
      case 'promote': {
        stopped = true;
        primary = null;
        try {
          // Every log still waiting is checkpointed by promote() itself.
          await holdCheckpoints();
          say({ kind: 'promoted', position: replica.promote(), error: null });
        } catch (err) {
          const error = { code: isEngineError(err) ? err.code : null, message: (err as Error).message };
          say({ kind: 'promoted', position: null, error });
        }
        break;
      }
      case 'stop':
        stopped = true;
        await holdCheckpoints();
        say({ kind: 'stopped', position: replica.position() });
        break;
    }
  } catch (err) {
    say({
      kind: 'error',
      code: isEngineError(err) ? err.code : null,
      message: err instanceof Error ? err.message : String(err),
    });
  }
  wake?.();
  if (!stopped) void loop();
}

say({ kind: 'position', position: replica.position(), at: null });
sayWaiting();
void loop();
// Logs left waiting when the thread last ended.
void checkpointBehind();
