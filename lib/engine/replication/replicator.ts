// The primary's replication of one SQLite database, on a worker thread of its own (replicator-worker.ts, built
// as dist/replicator-worker.cjs): it follows the database's log while the service writes, keeps the committed
// frames in a store under the agent's state directory, and answers the standbys' pulls from there. The agent
// hears of each new generation (whose base it ships to the group's repository, then says so: the base's files are
// removed) and of each position reached, with the time the log was last read to its end.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

import { EngineError, type EngineErrorCode } from '../errors';
import type { WalPosition } from './wal-follower';
import type { PullAnswer, PullRequest } from './wal-peer';

export interface ReplicatorOptions {
  dbPath: string;
  /** The database's name in messages. */
  shownAs: string;
  storeDir: string;
  /** How often the log is read for new frames. */
  pollMs: number;
  /** The log's length, in frames, at which the follower checkpoints it (about 4 MB at 1000 frames of 4 KB). */
  checkpointFrames: number;
  /** Runs SQLite's integrity_check on the database once replication has begun (a copy just promoted). */
  checkIntegrity?: boolean;
  /** A new base of the generation is taken once the newest is this old (15.2: every N hours)... */
  baseEveryMs?: number;
  /** ...or once the frames kept since its base outgrow this many bytes or the database's size, whichever is more:
   *  a new standby then downloads no more frames than a base's worth. */
  storeLimitBytes?: number;
}

export type ReplicatorRequest =
  | { kind: 'stop' }
  /** A pull by standby `by` (null: by a member whose acknowledgment it is not). */
  | { kind: 'pull'; id: number; request: PullRequest; token: number; by: string | null }
  | { kind: 'new-generation' }
  | { kind: 'flush'; id: number }
  /** Base `id` (its directory's name) is in the repository: its files, and older bases', may go. */
  | { kind: 'shipped'; id: string };

/** A base of a generation, the database at `position`: a directory holding base.db, base.log (the part of the log
 *  the base carries, where there is one) and position.json. */
export const BASE_LOG = 'base.log';
export interface BaseFiles {
  position: WalPosition;
  baseDir: string;
  /** The log `position` is in is wholly in base.db, and no frame of it is to come: the base carries no part of it
   *  (a standby that installs it takes the next log as its own). */
  logInFile: boolean;
}

export type ReplicatorMessage =
  /** A base to ship: a new generation's, or one taken within the generation. */
  | { kind: 'base'; position: WalPosition; baseDir: string; logInFile: boolean; why: string }
  | { kind: 'resumed'; position: WalPosition; at: number; baseDir: string | null }
  /** `baseUnderWay`: a new base is due (waiting for the log to restart) or being taken. */
  | { kind: 'position'; position: WalPosition; at: number | null; figures: ReplicatorFigures; baseUnderWay: boolean }
  /** `ackedAt`: the pull's position held every transaction committed before then (null: not one of the last
   *  rounds' ends). */
  | { kind: 'answer'; id: number; answer: PullAnswer; ackedAt: number | null }
  | { kind: 'flushed'; id: number; at: number | null }
  /** Standby `by` holds every transaction committed before `at` (its pull's position, as the pull arrived; or a
   *  held pull still at the end after a flush). */
  | { kind: 'acked'; by: string; at: number }
  | { kind: 'integrity'; ok: boolean; problems: string[] }
  /** A round of reading the log took `ms` (its slow steps named): pulls waited meanwhile. */
  | { kind: 'slow'; ms: number; steps: string[] }
  | { kind: 'error'; code: string | null; message: string }
  | { kind: 'stopped'; position: WalPosition | null; at: number | null };

/** What a replicator has written since it began: the log's frames it copied into its store, and its bases (each a
 *  copy of the database, with the part of the log it carries). */
export interface ReplicatorFigures {
  logBytes: number;
  bases: number;
  baseBytes: number;
  /** The newest base's files, and the log copied between the positions of the base before it and of it (null for
   *  the first the thread took): what the rule that takes them makes a base cost per byte of log. */
  newestBase: { bytes: number; logBytesBefore: number | null } | null;
}

export interface ReplicatorEvents {
  /** A base to ship: a new generation's, one taken within it, or (after a restart) the newest, not yet shipped. */
  base: [BaseFiles & { why: string }];
  position: [WalPosition];
  /** Standby `nodeId` holds every transaction committed before `at` (this machine's clock). */
  acked: [string, number];
  /** The result of integrity_check (checkIntegrity): ok, or the first problems SQLite found. */
  integrity: [{ ok: boolean; problems: string[] }];
  /** A slow round (at most one said every 10 s). */
  slow: [{ ms: number; steps: string[] }];
  error: [Error];
}

/** An error a worker thread reported (its engine code kept), as the main thread raises it. */
export function workerError(msg: { code: string | null; message: string }): Error {
  return msg.code ? new EngineError(msg.code as EngineErrorCode, msg.message) : new Error(msg.message);
}

export class Replicator extends EventEmitter<ReplicatorEvents> {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly answers = new Map<number, (answer: { answer: PullAnswer; ackedAt: number | null }) => void>();
  private readonly flushes = new Map<number, (at: number | null) => void>();
  private readonly stopped: Promise<WalPosition | null>;
  /** The end of the frames kept: what a standby that has them all has. */
  position: WalPosition | null = null;
  /** When the frames kept last held everything committed in the log (this machine's clock); null until then. */
  caughtUpAt: number | null = null;
  /** The generation of the base last announced. */
  generation: string | null = null;
  /** A new base is due or being taken, as last said. */
  baseUnderWay = false;
  /** What it has written since it began, as last said. */
  figures: ReplicatorFigures = { logBytes: 0, bases: 0, baseBytes: 0, newestBase: null };

  constructor(
    script: string,
    readonly options: ReplicatorOptions,
  ) {
    super();
    this.worker = new Worker(script, { workerData: options });
    this.stopped = new Promise((resolve) => {
      this.worker.on('message', (msg: ReplicatorMessage) => {
        switch (msg.kind) {
          case 'base':
            this.position = msg.position;
            this.generation = msg.position.generation;
            this.emit('base', { position: msg.position, baseDir: msg.baseDir, logInFile: msg.logInFile, why: msg.why });
            this.emit('position', msg.position);
            break;
          case 'resumed':
            this.position = msg.position;
            this.caughtUpAt = msg.at;
            this.generation = msg.position.generation;
            if (msg.baseDir) this.emit('base', { ...readBase(msg.baseDir), why: 'not shipped before a restart' });
            this.emit('position', msg.position);
            break;
          case 'position':
            this.position = msg.position;
            this.caughtUpAt = msg.at;
            this.figures = msg.figures;
            this.baseUnderWay = msg.baseUnderWay;
            this.emit('position', msg.position);
            break;
          case 'answer':
            this.answers.get(msg.id)?.({ answer: revive(msg.answer), ackedAt: msg.ackedAt });
            this.answers.delete(msg.id);
            break;
          case 'acked':
            this.emit('acked', msg.by, msg.at);
            break;
          case 'integrity':
            this.emit('integrity', { ok: msg.ok, problems: msg.problems });
            break;
          case 'slow':
            this.emit('slow', { ms: msg.ms, steps: msg.steps });
            break;
          case 'flushed':
            if (msg.at !== null) this.caughtUpAt = msg.at;
            this.flushes.get(msg.id)?.(msg.at);
            this.flushes.delete(msg.id);
            break;
          case 'error':
            this.emit('error', workerError(msg));
            break;
          case 'stopped':
            this.position = msg.position;
            if (msg.at !== null) this.caughtUpAt = msg.at;
            resolve(msg.position);
            break;
        }
      });
      this.worker.on('error', (err) => {
        this.emit('error', err);
        resolve(this.position);
      });
      this.worker.on('exit', () => resolve(this.position));
    });
  }

  /** The answer to a standby's pull (wal-peer.ts), from the frames kept (held up to the pull's `waitMs` for frames
   *  to come); and when the transactions its position holds were all committed by (its acknowledgment). */
  pull(
    request: PullRequest,
    token: number,
    by: string | null = null,
  ): Promise<{ answer: PullAnswer; ackedAt: number | null }> {
    const id = this.nextId++;
    return Promise.race([
      new Promise<{ answer: PullAnswer; ackedAt: number | null }>((resolve) => {
        this.answers.set(id, resolve);
        this.worker.postMessage({ kind: 'pull', id, request, token, by } satisfies ReplicatorRequest);
      }),
      this.stopped.then((): never => {
        throw new Error(`the replication of ${this.options.shownAs} stopped`);
      }),
    ]);
  }

  /** The answer alone. */
  async answer(request: PullRequest, token: number): Promise<PullAnswer> {
    return (await this.pull(request, token)).answer;
  }

  /** Reads the log to its end now and puts the frames on disk; resolves with the time it was read from (every
   *  transaction committed before then is kept), or null if the thread has ended. */
  flush(): Promise<number | null> {
    const id = this.nextId++;
    return Promise.race([
      new Promise<number | null>((resolve) => {
        this.flushes.set(id, resolve);
        this.worker.postMessage({ kind: 'flush', id } satisfies ReplicatorRequest);
      }),
      this.stopped.then(() => null),
    ]);
  }

  /** `base` is in the repository: its files, and older bases', may go, and the frames before the older of the
   *  two newest shipped. */
  shipped(base: BaseFiles): void {
    this.worker.postMessage({ kind: 'shipped', id: path.basename(base.baseDir) } satisfies ReplicatorRequest);
  }

  /** Starts a new generation, with its base: the standbys all start from it. */
  newGeneration(): void {
    this.worker.postMessage({ kind: 'new-generation' } satisfies ReplicatorRequest);
  }

  /** Keeps what the log holds now, lets go of the database, and ends the thread. Returns where the frames end
   *  (`caughtUpAt` is then when the log was last read to its end). */
  async stop(): Promise<WalPosition | null> {
    this.worker.postMessage({ kind: 'stop' } satisfies ReplicatorRequest);
    const position = await this.stopped;
    await this.worker.terminate();
    return position;
  }
}

/** A base's files as the worker left them (position.json beside base.db: the position, and whether its log is in
 *  the file). */
export function readBase(baseDir: string): BaseFiles {
  const { logInFile, ...position } = JSON.parse(
    readFileSync(path.join(baseDir, 'position.json'), 'utf8'),
  ) as WalPosition & { logInFile?: boolean };
  return { baseDir, position, logInFile: logInFile === true };
}

/** What position.json holds for a base at `position`. */
export function basePositionJson(position: WalPosition, logInFile: boolean): string {
  return JSON.stringify(logInFile ? { ...position, logInFile } : position);
}

/** An answer as it crossed from the worker: its frames' bytes as a Buffer again (a Uint8Array once cloned). */
function revive(answer: PullAnswer): PullAnswer {
  if (answer.kind !== 'frames') return answer;
  const { batch } = answer;
  const buffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return { ...answer, batch: { ...batch, header: buffer(batch.header), frames: buffer(batch.frames) } };
}
