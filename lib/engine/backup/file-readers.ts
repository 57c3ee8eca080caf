// Where files are read: inline on the calling thread (tests, small jobs), or on a pool of worker threads so
// that a backup uses every core while the main thread only packs and writes. Either way a file's new blobs reach
// the caller in batches while it is read (`onBlobs`), and the reader goes on only as the caller stores them: what
// a backup holds in memory does not grow with the size of a file.
import os from 'node:os';
import { Worker } from 'node:worker_threads';

import { EngineError } from '../errors';
import { BlobKeys, type BlobKeysView } from '../repository/blob-table';
import { type FileResult, type NewBlob, type ReaderKeys, readFileInBatches } from './read-file';

/** Stores a batch of a file's new blobs; the reader sends the next batch of that file once this resolves. */
export type BlobSink = (blobs: NewBlob[]) => Promise<void>;

export interface FileReader {
  /** Reads a file; its new blobs go to `onBlobs` as they are made, but for the last few, which come in the result. */
  read(file: string, expectedSize: number, detectSqlite: boolean, onBlobs: BlobSink): Promise<FileResult>;
  close(): Promise<void>;
}

export interface ReaderSetup {
  keys: ReaderKeys;
  /** Blob ids the repository has when the backup starts, as shared memory (MasterIndex.shareKeys). */
  known: BlobKeysView;
}

export class InlineFileReader implements FileReader {
  private readonly known: BlobKeys;

  constructor(private readonly setup: ReaderSetup) {
    this.known = new BlobKeys(setup.known);
  }

  async read(file: string, expectedSize: number, detectSqlite: boolean, onBlobs: BlobSink): Promise<FileResult> {
    // Give the event loop a turn between files: progress and cancellation stay live.
    await new Promise((r) => setImmediate(r));
    const steps = readFileInBatches(file, expectedSize, detectSqlite, this.setup.keys, this.known);
    try {
      for (;;) {
        const step = steps.next();
        if (step.done) return step.value;
        await onBlobs(step.value);
      }
    } finally {
      // Closes the file if a batch could not be stored.
      steps.return({ kind: 'error', message: 'stopped' });
    }
  }

  async close(): Promise<void> {}
}

interface Waiting {
  resolve: (r: FileResult) => void;
  reject: (e: unknown) => void;
  onBlobs: BlobSink;
  /** Why a batch of the file could not be stored; its result is then this failure. */
  failure?: unknown;
}

interface Job {
  msg: { seq: number; file: string; expectedSize: number; detectSqlite: boolean };
  waiting: Waiting;
}

/** What a worker sends: a batch of a file's new blobs, the file's result, or both (its last batch and result). */
export type WorkerMessage =
  | { seq: number; blobs: NewBlob[]; bytes: number; result?: FileResult }
  | { seq: number; result: FileResult };

/** Jobs a worker holds at once: one it works on and one ready, so it never waits for the main thread. */
const PER_WORKER = 4;

/** Files queue up here and each worker takes the next when it has room, so one large file on one worker does
 *  not leave the other idle behind a fixed share of the work. What a worker sends is handled in the order it sent
 *  it, on one chain per worker: its batches are stored one after the other, and a file's result is given only once
 *  everything the worker sent before it is stored. A worker takes a batch's blobs as known as soon as it sent them,
 *  so a later file may name them: it must not resolve before they are in the writer. */
export class WorkerFileReader implements FileReader {
  private readonly workers: {
    worker: Worker;
    waiting: Map<number, Waiting>;
    dead: boolean;
    /** Sealed bytes of this worker's batches stored so far, which it waits on (Atomics) to go on reading. */
    stored: BigInt64Array;
    /** Everything this worker sent, handled in order; it never rejects (a failure goes to its file). */
    chain: Promise<void>;
  }[];
  private closing = false;
  private readonly queue: Job[] = [];
  private seq = 0;

  constructor(
    setup: ReaderSetup,
    workerScript: string,
    size = Math.max(1, os.availableParallelism()),
    /** The threads run at the lowest CPU priority (runBackup's `background`). */
    background = false,
  ) {
    this.workers = Array.from({ length: size }, () => {
      // [0]: sealed bytes of this worker's batches stored so far; [1]: 1 once the backup has failed, so that the
      // worker stops reading (a cancel then takes a batch, not the rest of a large file).
      const stored = new BigInt64Array(new SharedArrayBuffer(16));
      const worker = new Worker(workerScript, {
        workerData: { keys: setup.keys, known: setup.known, stored: stored.buffer, background },
      });
      const slot = { worker, waiting: new Map<number, Waiting>(), dead: false, stored, chain: Promise.resolve() };
      worker.on('message', (msg: WorkerMessage) => {
        const w = slot.waiting.get(msg.seq);
        if (!w) return;
        if ('blobs' in msg) {
          const { blobs, bytes } = msg;
          slot.chain = slot.chain.then(async () => {
            try {
              if (!w.failure) await w.onBlobs(blobs);
            } catch (err) {
              w.failure = err;
              this.stopWorkers();
            } finally {
              // Counted as stored even if storing failed: the worker must not wait for ever; the read fails anyway.
              Atomics.add(stored, 0, BigInt(bytes));
              Atomics.notify(stored, 0);
            }
          });
        }
        const { result } = msg;
        if (!result) return;
        slot.waiting.delete(msg.seq);
        this.dispatch();
        slot.chain = slot.chain.then(() => (w.failure ? w.reject(w.failure) : w.resolve(result)));
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

  read(file: string, expectedSize: number, detectSqlite: boolean, onBlobs: BlobSink): Promise<FileResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        msg: { seq: this.seq++, file, expectedSize, detectSqlite },
        waiting: { resolve, reject, onBlobs },
      });
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

  /** Tells every worker to give up its files: nothing more of this backup will be stored. */
  private stopWorkers(): void {
    for (const slot of this.workers) {
      Atomics.store(slot.stored, 1, 1n);
      Atomics.notify(slot.stored, 0);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.stopWorkers();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
