// Worker thread body for WorkerFileReader: reads files and sends back their chunk ids and new sealed blobs.
import { parentPort, workerData } from 'node:worker_threads';

import { readFile, type ReaderKeys } from './read-file';

const raw = workerData.keys as ReaderKeys;
const keys: ReaderKeys = {
  encryption: Buffer.from(raw.encryption),
  id: Buffer.from(raw.id),
  gear: new Int32Array(raw.gear),
  chunker: raw.chunker,
};
const known = new Set<string>(workerData.known as string[]);

parentPort!.on('message', (msg: { seq: number; file: string; expectedSize: number; detectSqlite: boolean }) => {
  const result = readFile(msg.file, msg.expectedSize, msg.detectSqlite, keys, known);
  const transfer = result.kind === 'read' ? result.blobs.map((b) => owned(b)) : [];
  parentPort!.postMessage({ seq: msg.seq, result }, transfer);
});

/** Sealed blobs of a few KiB share a pooled backing store, which must be copied before it is transferred. */
function owned(blob: { sealed: Uint8Array }): ArrayBuffer {
  if (blob.sealed.byteOffset !== 0 || blob.sealed.buffer.byteLength !== blob.sealed.byteLength)
    blob.sealed = new Uint8Array(blob.sealed);
  return blob.sealed.buffer as ArrayBuffer;
}
