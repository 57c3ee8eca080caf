// Worker thread body for WorkerFileReader: reads files and sends back their new sealed blobs in batches as it goes,
// then each file's chunk ids. It waits (blocking this thread only) while more than READER_WINDOW_BYTES of its batches are
// not yet stored by the main thread.
import { parentPort, workerData } from 'node:worker_threads';

import { BlobKeys, type BlobKeysView } from '../repository/blob-table';
import { lowerThreadPriority } from '../thread-priority';
import type { WorkerMessage } from './file-readers';
import { BLOB_BATCH_BYTES, type NewBlob, READER_WINDOW_BYTES, type ReaderKeys, readFileInBatches } from './read-file';

const raw = workerData.keys as ReaderKeys;
const keys: ReaderKeys = {
  encryption: Buffer.from(raw.encryption),
  id: Buffer.from(raw.id),
  gear: new Int32Array(raw.gear),
  chunker: raw.chunker,
};
const known = new BlobKeys(workerData.known as BlobKeysView);
if (workerData.background) lowerThreadPriority();
const stored = new BigInt64Array(workerData.stored as SharedArrayBuffer);
let sent = 0n;

function send(msg: WorkerMessage, blobs: NewBlob[]): void {
  parentPort!.postMessage(
    msg,
    blobs.map((b) => owned(b)),
  );
}

/** Whether the backup failed: nothing more it reads would be stored. */
const stopped = () => Atomics.load(stored, 1) !== 0n;
const STOPPED = { kind: 'error', message: 'the backup stopped' } as const;

parentPort!.on('message', (msg: { seq: number; file: string; expectedSize: number; detectSqlite: boolean }) => {
  if (stopped()) return send({ seq: msg.seq, result: STOPPED }, []);
  const steps = readFileInBatches(msg.file, msg.expectedSize, msg.detectSqlite, keys, known);
  let step = steps.next();
  for (;;) {
    if (step.done) return send({ seq: msg.seq, result: step.value }, []);
    const batch = step.value;
    const bytes = batch.reduce((n, b) => n + b.sealed.byteLength, 0);
    sent += BigInt(bytes);
    // A batch short of BLOB_BATCH_BYTES is the file's last (read-file.ts hands on the others once they reach it):
    // the file's result goes with it, one message instead of two for each small file.
    if (bytes < BLOB_BATCH_BYTES) {
      step = steps.next();
      if (step.done) return send({ seq: msg.seq, blobs: batch, bytes, result: step.value }, batch);
      send({ seq: msg.seq, blobs: batch, bytes }, batch);
      continue;
    }
    send({ seq: msg.seq, blobs: batch, bytes }, batch);
    for (let seen = Atomics.load(stored, 0); sent - seen > BigInt(READER_WINDOW_BYTES) && !stopped(); ) {
      Atomics.wait(stored, 0, seen);
      seen = Atomics.load(stored, 0);
    }
    if (stopped()) {
      // Closes the file.
      steps.return(STOPPED);
      return send({ seq: msg.seq, result: STOPPED }, []);
    }
    step = steps.next();
  }
});

/** Sealed blobs of a few KiB share a pooled backing store, which must be copied before it is transferred. */
function owned(blob: { sealed: Uint8Array }): ArrayBuffer {
  if (blob.sealed.byteOffset !== 0 || blob.sealed.buffer.byteLength !== blob.sealed.byteLength)
    blob.sealed = new Uint8Array(blob.sealed);
  return blob.sealed.buffer as ArrayBuffer;
}
