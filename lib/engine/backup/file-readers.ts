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

/** Files go to the worker with the fewest outstanding bytes. Results come back with their sealed blobs. */
export class WorkerFileReader implements FileReader {
  private readonly workers: { worker: Worker; waiting: Map<number, Waiting>; bytes: number }[];
  private seq = 0;

  constructor(setup: ReaderSetup, workerScript: string, size = Math.max(1, os.availableParallelism())) {
    const known = [...setup.known];
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(workerScript, { workerData: { keys: setup.keys, known } });
      const slot = { worker, waiting: new Map<number, Waiting>(), bytes: 0 };
      worker.on('message', (msg: { seq: number; bytes: number; result: FileResult }) => {
        const w = slot.waiting.get(msg.seq);
        slot.waiting.delete(msg.seq);
        slot.bytes -= msg.bytes;
        w?.resolve(msg.result);
      });
      worker.on('error', (err) => {
        for (const w of slot.waiting.values()) w.reject(new EngineError('io', `backup worker failed: ${err.message}`, { cause: err }));
        slot.waiting.clear();
      });
      return slot;
    });
  }

  read(file: string, expectedSize: number, detectSqlite: boolean): Promise<FileResult> {
    const slot = this.workers.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    const seq = this.seq++;
    const bytes = expectedSize + 4096;
    slot.bytes += bytes;
    return new Promise((resolve, reject) => {
      slot.waiting.set(seq, { resolve, reject });
      slot.worker.postMessage({ seq, bytes, file, expectedSize, detectSqlite });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
