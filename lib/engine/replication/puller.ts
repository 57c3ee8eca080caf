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
  /** How long to wait before asking again when the copy has every frame. */
  pollMs: number;
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
  | { kind: 'install-base'; baseFile: string; position: WalPosition }
  | { kind: 'promote' }
  | { kind: 'stop' };

export type PullerMessage =
  /** The copy's position. */
  | { kind: 'position'; position: WalPosition | null }
  | { kind: 'base-needed'; why: string; generation: string }
  | { kind: 'not-primary'; why: string }
  | { kind: 'promoted'; position: WalPosition | null }
  | { kind: 'error'; code: string | null; message: string }
  | { kind: 'stopped'; position: WalPosition | null };

export interface PullerEvents {
  position: [WalPosition | null];
  'base-needed': [string];
  'not-primary': [string];
  error: [Error];
}

export class ReplicaPuller extends EventEmitter<PullerEvents> {
  private readonly worker: Worker;
  /** The copy's position as last reported. */
  position: WalPosition | null = null;
  private readonly ended: Promise<WalPosition | null>;
  private promoted: ((position: WalPosition | null) => void) | null = null;

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
            this.emit('position', msg.position);
            break;
          case 'base-needed':
            this.emit('base-needed', msg.why);
            break;
          case 'not-primary':
            this.emit('not-primary', msg.why);
            break;
          case 'promoted':
            this.position = msg.position;
            this.promoted?.(msg.position);
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

  /** Installs a base (files restored from the group's repository, moved into place) at `position`. */
  installBase(baseFile: string, position: WalPosition): void {
    this.worker.postMessage({ kind: 'install-base', baseFile, position } satisfies PullerRequest);
  }

  /** Stops pulling and makes the copy a plain database for the service; returns where it ended. */
  async promote(): Promise<WalPosition | null> {
    const done = new Promise<WalPosition | null>((resolve) => {
      this.promoted = resolve;
    });
    this.worker.postMessage({ kind: 'promote' } satisfies PullerRequest);
    const position = await Promise.race([done, this.ended]);
    await this.worker.terminate();
    return position;
  }

  async stop(): Promise<WalPosition | null> {
    this.worker.postMessage({ kind: 'stop' } satisfies PullerRequest);
    const position = await this.ended;
    await this.worker.terminate();
    return position;
  }
}
