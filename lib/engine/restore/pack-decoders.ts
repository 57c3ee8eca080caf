// Where a restore decrypts, decompresses and checks its blobs: inline on the calling thread (tests, the engine as a
// library), or on a pool of worker threads, one per core, so that a restore decodes several packs at once while
// the main thread reads the next packs and writes what is decoded.
import os from 'node:os';
import { Worker } from 'node:worker_threads';

import { ENGINE_ERROR_CODES, EngineError, type EngineErrorCode } from '../errors';
import { decodeBlob } from '../repository/blob-codec';

/** A blob to take out of a pack: where it is, and the id its content must hash to. */
export interface PackBlob {
  offset: number;
  length: number;
  id: string;
}

export interface BlobKeyPair {
  encryption: Buffer;
  id: Buffer;
}

export interface PackDecoder {
  /** Packs worth having in flight at once: enough to keep every decoding thread busy. */
  readonly parallelism: number;
  /** The plaintext of each blob, in the order asked, each checked against its id; rejects with the first problem. */
  decode(pack: Buffer, blobs: PackBlob[]): Promise<Buffer[]>;
  close(): Promise<void>;
}

export function decodePackBlobs(keys: BlobKeyPair, pack: Uint8Array, blobs: PackBlob[]): Buffer[] {
  return blobs.map((b) => {
    if (b.offset + b.length > pack.length)
      throw new EngineError('corrupt', `blob ${b.id.slice(0, 12)} lies past the end of its pack`);
    return decodeBlob(keys, pack.subarray(b.offset, b.offset + b.length), b.id);
  });
}

export class InlinePackDecoder implements PackDecoder {
  readonly parallelism = 1;

  constructor(private readonly keys: BlobKeyPair) {}

  async decode(pack: Buffer, blobs: PackBlob[]): Promise<Buffer[]> {
    // A turn of the event loop per pack keeps progress and cancellation live.
    await new Promise((r) => setImmediate(r));
    return decodePackBlobs(this.keys, pack, blobs);
  }

  async close(): Promise<void> {}
}

/** What a decode worker answers: the plaintexts (transferred), or why it could not. */
export type DecodeReply =
  | { seq: number; plaintexts: ArrayBuffer[] }
  | { seq: number; error: { code: string | null; message: string } };

interface Waiting {
  resolve: (plaintexts: Buffer[]) => void;
  reject: (err: unknown) => void;
}

export class WorkerPackDecoder implements PackDecoder {
  readonly parallelism: number;
  private readonly workers: { worker: Worker; waiting: Map<number, Waiting>; dead: boolean }[];
  private seq = 0;
  private next = 0;
  private closing = false;

  constructor(
    keys: BlobKeyPair,
    workerScript: string,
    size = Math.max(1, os.availableParallelism()),
    /** The threads run at the lowest CPU priority (runRestore's `background`). */
    background = false,
  ) {
    this.parallelism = size;
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(workerScript, {
        workerData: { keys: { encryption: keys.encryption, id: keys.id }, background },
      });
      const slot = { worker, waiting: new Map<number, Waiting>(), dead: false };
      worker.on('message', (reply: DecodeReply) => {
        const w = slot.waiting.get(reply.seq);
        if (!w) return;
        slot.waiting.delete(reply.seq);
        if ('error' in reply) w.reject(rebuildError(reply.error));
        else w.resolve(reply.plaintexts.map((p) => Buffer.from(p)));
      });
      const fail = (why: string, cause?: unknown) => {
        if (slot.dead) return;
        slot.dead = true;
        if (this.closing) return;
        const err = new EngineError('io', `a restore worker stopped: ${why}`, { cause });
        for (const w of slot.waiting.values()) w.reject(err);
        slot.waiting.clear();
      };
      worker.on('error', (err) => fail(err.message, err));
      worker.on('exit', (code) => fail(`exit code ${code}`));
      return slot;
    });
  }

  decode(pack: Buffer, blobs: PackBlob[]): Promise<Buffer[]> {
    const slot = this.pick();
    if (!slot) return Promise.reject(new EngineError('io', 'every restore worker has stopped'));
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      slot.waiting.set(seq, { resolve, reject });
      // A pack read from a file owns its memory and moves to the worker without a copy; a view is copied.
      const whole = pack.byteOffset === 0 && pack.buffer.byteLength === pack.byteLength;
      slot.worker.postMessage({ seq, pack, blobs }, whole ? [pack.buffer as ArrayBuffer] : []);
    });
  }

  /** The live worker with the fewest packs, taking turns among equals. */
  private pick() {
    let best: (typeof this.workers)[number] | undefined;
    for (let i = 0; i < this.workers.length; i++) {
      const slot = this.workers[(this.next + i) % this.workers.length];
      if (!slot.dead && (!best || slot.waiting.size < best.waiting.size)) best = slot;
    }
    this.next++;
    return best;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

/** An error as the worker saw it, with its engine code where it had one (a damaged blob stays `corrupt`). */
function rebuildError(error: { code: string | null; message: string }): EngineError {
  const code = ENGINE_ERROR_CODES.includes(error.code as EngineErrorCode) ? (error.code as EngineErrorCode) : 'io';
  return new EngineError(code, error.message);
}
