// The primary's replication of one SQLite database, on a worker thread of its own (replicator-worker.ts, built
// as dist/replicator-worker.cjs): it follows the database's log while the service writes, keeps the committed
// frames in a store under the agent's state directory, and answers the standbys' pulls from there. The agent
// hears of each new generation (whose base it ships to the group's repository) and of each position reached.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';

import { EngineError, type EngineErrorCode } from '../errors';
import type { WalPosition } from './wal-follower';
import type { PullRequest } from './wal-peer';

export interface ReplicatorOptions {
  dbPath: string;
  /** The database's name in messages. */
  shownAs: string;
  storeDir: string;
  /** How often the log is read for new frames. */
  pollMs: number;
  /** The log's length, in frames, at which the follower checkpoints it (about 4 MB at 1000 frames of 4 KB). */
  checkpointFrames: number;
}

export type ReplicatorRequest =
  | { kind: 'stop' }
  | { kind: 'pull'; id: number; request: PullRequest; token: number }
  | { kind: 'new-base' };

export type ReplicatorMessage =
  | { kind: 'generation'; position: WalPosition; baseFile: string; why: string }
  | { kind: 'resumed'; position: WalPosition }
  | { kind: 'position'; position: WalPosition }
  | { kind: 'answer'; id: number; bytes: Uint8Array }
  | { kind: 'error'; code: string | null; message: string }
  | { kind: 'stopped'; position: WalPosition | null };

export interface ReplicatorEvents {
  generation: [{ position: WalPosition; baseFile: string; why: string }];
  position: [WalPosition];
  error: [Error];
}

/** An error a worker thread reported (its engine code kept), as the main thread raises it. */
export function workerError(msg: { code: string | null; message: string }): Error {
  return msg.code ? new EngineError(msg.code as EngineErrorCode, msg.message) : new Error(msg.message);
}

export class Replicator extends EventEmitter<ReplicatorEvents> {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly answers = new Map<number, (bytes: Buffer) => void>();
  private readonly stopped: Promise<WalPosition | null>;
  /** The end of the frames kept: what a standby that has them all has. */
  position: WalPosition | null = null;

  constructor(
    script: string,
    readonly options: ReplicatorOptions,
  ) {
    super();
    this.worker = new Worker(script, { workerData: options });
    this.stopped = new Promise((resolve) => {
      this.worker.on('message', (msg: ReplicatorMessage) => {
        switch (msg.kind) {
          case 'generation':
            this.position = msg.position;
            this.emit('generation', msg);
            break;
          case 'resumed':
          case 'position':
            this.position = msg.position;
            this.emit('position', msg.position);
            break;
          case 'answer':
            this.answers.get(msg.id)?.(Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength));
            this.answers.delete(msg.id);
            break;
          case 'error':
            this.emit('error', workerError(msg));
            break;
          case 'stopped':
            this.position = msg.position;
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

  /** The answer to a standby's pull, as bytes to send (wal-peer.ts), from the frames kept. */
  answer(request: PullRequest, token: number): Promise<Buffer> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      this.worker.postMessage({ kind: 'pull', id, request, token } satisfies ReplicatorRequest);
    });
  }

  /** Starts a new generation (a new base): on a schedule, or for a standby whose position is no longer kept. */
  newBase(): void {
    this.worker.postMessage({ kind: 'new-base' } satisfies ReplicatorRequest);
  }

  /** Keeps what the log holds now, lets go of the database, and ends the thread. Returns where the frames end. */
  async stop(): Promise<WalPosition | null> {
    this.worker.postMessage({ kind: 'stop' } satisfies ReplicatorRequest);
    const position = await this.stopped;
    await this.worker.terminate();
    return position;
  }
}
