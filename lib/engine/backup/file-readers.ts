// Where files are read: inline on the calling thread (tests, small jobs), or on a pool of worker threads so
// that a backup uses every core while the main thread only packs and writes.
import os from 'node:os';
import { Worker } from 'node:worker_threads';

import { EngineError } from '../errors';
import { readFile, type FileResult, type ReaderKeys } from './read-file';

export interface FileReader {
  read(file: string, expectedSize: number, detectSqlite: boolean): Promise<FileResult>;
  close(): Promise<void>;
}

export interface ReaderSetup {
  keys: ReaderKeys;
  /** Blob ids the repository has when the backup starts. */
  known: Iterable<string>;
}

export class InlineFileReader implements FileReader {
  private readonly known: Set<string>;

  constructor(private readonly setup: ReaderSetup) {
    this.known = new Set(setup.known);
  }

  async read(file: string, expectedSize: number, detectSqlite: boolean): Promise<FileResult> {
    // Give the event loop a turn between files: progress and cancellation stay live.
    await new Promise((r) => setImmediate(r));
    return readFile(file, expectedSize, detectSqlite, this.setup.keys, this.known);
  }

  async close(): Promise<void> {}
}

interface Waiting {
  resolve: (r: FileResult) => void;
  reject: (e: unknown) => void;
}

interface Job {
  msg: { seq: number; file: string; expectedSize: number; detectSqlite: boolean };
  waiting: Waiting;
}

/** Jobs a worker holds at once: one it works on and one ready, so it never waits for the main thread. */
const PER_WORKER = 4;

/** Files queue up here and each worker takes the next when it has room, so one large file on one worker does
 *  not leave the other idle behind a fixed share of the work. Results come back with their sealed blobs. */
export class WorkerFileReader implements FileReader {
  private readonly workers: { worker: Worker; waiting: Map<number, Waiting>; dead: boolean }[];
  private closing = false;
  private readonly queue: Job[] = [];
  private seq = 0;

  constructor(setup: ReaderSetup, workerScript: string, size = Math.max(1, os.availableParallelism())) {
    const known = [...setup.known];
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(workerScript, { workerData: { keys: setup.keys, known } });
      const slot = { worker, waiting: new Map<number, Waiting>(), dead: false };
      worker.on('message', (msg: { seq: number; result: FileResult }) => {
        const w = slot.waiting.get(msg.seq);
        slot.waiting.delete(msg.seq);
        this.dispatch();
        w?.resolve(msg.result);
      });
      const fail = (why: string, cause?: unknown) => {
        if (slot.dead || this.closing) return;
        slot.dead = true;
        const err = new EngineError('io', `a backup worker stopped: ${why}`, { cause });
        for (const w of slot.waiting.values()) w.reject(err);
        slot.waiting.clear();
        // Without workers nothing would ever take the queued files: fail them rather than wait forever.
        if (this.workers?.every((s) => s.dead)) for (const job of this.queue.splice(0)) job.waiting.reject(err);
      };
      worker.on('error', (err) => fail(err.message, err));
      worker.on('exit', (code) => fail(`exit code ${code}`));
      return slot;
    });
  }

  read(file: string, expectedSize: number, detectSqlite: boolean): Promise<FileResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ msg: { seq: this.seq++, file, expectedSize, detectSqlite }, waiting: { resolve, reject } });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.workers) {
      while (!slot.dead && slot.waiting.size < PER_WORKER && this.queue.length > 0) {
        const job = this.queue.shift()!;
        slot.waiting.set(job.msg.seq, job.waiting);
        slot.worker.postMessage(job.msg);
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
