// A standby's replication of one SQLite database, on a worker thread of its own (puller-worker.ts, built as
// dist/puller-worker.cjs): it pulls the frames after its copy's position from the primary it is told to follow
// and lays them down as they come. The agent tells it whom to follow (the primary's agent, its fencing token and
// the group key), installs a base when it needs one, and promotes the copy into a plain database before the
// service starts on it.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';

import { workerError } from './replicator';
import type { WalPosition } from './wal-follower';

export interface PullerOptions {
  nodeId: string;
  /** The database's name in the service's config (`service.sqlite`), as the primary knows it too. */
  db: string;
  /** The copy's database file on this node. */
  dbPath: string;
  /** How long to wait before asking again when the copy has every frame and the primary did not hold the pull. */
  pollMs: number;
  /** How long the primary may hold a pull for frames to come (a long poll; 0: none). */
  waitMs?: number;
  timeoutMs: number;
}

export interface Primary {
  /** The primary's agent. */
  url: string;
  token: number;
  groupKey: string;
}

export type PullerRequest =
  | { kind: 'follow'; primary: Primary | null }
  /** Asks the primary now: again for a base's generation, or out of a pause after a failed pull. */
  | { kind: 'ask' }
  | { kind: 'install-base'; baseFile: string; position: WalPosition; logInFile: boolean }
  | { kind: 'promote' }
  | { kind: 'stop' };

export type PullerMessage =
  /** The copy's position; `at`, where it holds everything the primary had committed by then (its clock). */
  | { kind: 'position'; position: WalPosition | null; at: number | null }
  /** How many logs wait behind the copy's log, to be checkpointed into its file in turn. */
  | { kind: 'waiting'; logs: number }
  /** `generation`: the primary's, whose newest base the copy may start from (null: it has none yet). */
  | { kind: 'base-needed'; why: string; generation: string | null }
  | { kind: 'not-primary'; why: string }
  | { kind: 'promoted'; position: WalPosition | null; error: { code: string | null; message: string } | null }
  /** A base was installed (error null), or refused. */
  | { kind: 'installed'; error: { code: string | null; message: string } | null }
  /** Laying a batch down took `ms`: the copy fell behind meanwhile. Or (`beside`) the checkpoint of the copy's log
   *  did, on its own thread, while frames went on being laid down. */
  | { kind: 'slow'; ms: number; beside: boolean }
  | { kind: 'error'; code: string | null; message: string }
  | { kind: 'stopped'; position: WalPosition | null };

export interface PullerEvents {
  position: [WalPosition | null];
  /** Why, and the primary's generation (null: it has none yet). */
  'base-needed': [string, string | null];
  'not-primary': [string];
  /** A slow apply, or a slow checkpoint beside the applies (at most one said every 10 s). */
  slow: [{ ms: number; beside: boolean }];
  error: [Error];
}

export class ReplicaPuller extends EventEmitter<PullerEvents> {
  private readonly worker: Worker;
  /** The copy's position as last reported. */
  position: WalPosition | null = null;
  /** How many logs wait behind the copy's log (0: its log is the only one). */
  waitingLogs = 0;
  /** The copy holds every transaction the primary had committed by this time (the primary's clock); null until a
   *  pull reached the primary's end since the copy's base. */
  caughtUpAt: number | null = null;
  private readonly ended: Promise<WalPosition | null>;
  private promoted: ((outcome: WalPosition | null | Error) => void) | null = null;
  private readonly installing: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(
    script: string,
    readonly options: PullerOptions,
  ) {
    super();
    this.worker = new Worker(script, { workerData: options });
    this.ended = new Promise((resolve) => {
      this.worker.on('message', (msg: PullerMessage) => {
        switch (msg.kind) {
          case 'position':
            this.position = msg.position;
            if (msg.at !== null) this.caughtUpAt = Math.max(msg.at, this.caughtUpAt ?? 0);
            this.emit('position', msg.position);
            break;
          case 'waiting':
            this.waitingLogs = msg.logs;
            break;
          case 'installed': {
            const done = this.installing.shift();
            if (msg.error) done?.reject(workerError(msg.error));
            else done?.resolve();
            break;
          }
          case 'base-needed':
            this.emit('base-needed', msg.why, msg.generation);
            break;
          case 'not-primary':
            this.emit('not-primary', msg.why);
            break;
          case 'slow':
            this.emit('slow', { ms: msg.ms, beside: msg.beside });
            break;
          case 'promoted':
            this.position = msg.position;
            this.promoted?.(msg.error ? workerError(msg.error) : msg.position);
            resolve(msg.position);
            break;
          case 'error':
            this.emit('error', workerError(msg));
            break;
          case 'stopped':
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

  follow(primary: Primary | null): void {
    this.worker.postMessage({ kind: 'follow', primary } satisfies PullerRequest);
  }

  /** Asks the primary now (see PullerRequest 'ask'). */
  ask(): void {
    this.worker.postMessage({ kind: 'ask' } satisfies PullerRequest);
  }

  /** Installs a base (files restored from the group's repository, moved into place) at `position` (`logInFile`:
   *  its log is wholly in its file: BaseFiles); resolves once it is the copy, rejects if it was refused (the copy is
   *  then left asking for a base). */
  installBase(baseFile: string, position: WalPosition, logInFile: boolean): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.installing.push({ resolve, reject }));
    this.worker.postMessage({ kind: 'install-base', baseFile, position, logInFile } satisfies PullerRequest);
    return Promise.race([
      done,
      this.ended.then(() => {
        throw new Error('the puller stopped before the base was installed');
      }),
    ]);
  }

  /** Stops pulling and makes the copy a plain database for the service; returns where it ended. Throws if the
   *  copy could not be made one (its log could not be checkpointed into its file). */
  async promote(): Promise<WalPosition | null> {
    const done = new Promise<WalPosition | null | Error>((resolve) => {
      this.promoted = resolve;
    });
    this.worker.postMessage({ kind: 'promote' } satisfies PullerRequest);
    const outcome = await Promise.race([done, this.ended]);
    await this.worker.terminate();
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  async stop(): Promise<WalPosition | null> {
    this.worker.postMessage({ kind: 'stop' } satisfies PullerRequest);
    const position = await this.ended;
    await this.worker.terminate();
    return position;
  }
}
