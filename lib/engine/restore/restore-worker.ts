// Worker thread body for WorkerPackDecoder: decrypts, decompresses and checks the blobs a restore asks for out of
// one pack, and hands their plaintexts back without copying them.
import { parentPort, workerData } from 'node:worker_threads';

import { isEngineError } from '../errors';
import { lowerThreadPriority } from '../thread-priority';
import { type DecodeReply, decodePackBlobs, type PackBlob } from './pack-decoders';

if (workerData.background) lowerThreadPriority();
const keys = {
  encryption: Buffer.from(workerData.keys.encryption),
  id: Buffer.from(workerData.keys.id),
};

parentPort!.on('message', (msg: { seq: number; pack: Uint8Array; blobs: PackBlob[] }) => {
  let reply: DecodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const plaintexts = decodePackBlobs(keys, msg.pack, msg.blobs).map(owned);
    reply = { seq: msg.seq, plaintexts };
    transfer = plaintexts;
  } catch (err) {
    reply = {
      seq: msg.seq,
      error: { code: isEngineError(err) ? err.code : null, message: err instanceof Error ? err.message : String(err) },
    };
  }
  parentPort!.postMessage(reply, transfer);
});

/** A plaintext that is a view into a larger buffer (a stored blob inside its decrypted form, a pooled small
 *  buffer) is copied, so that what is transferred is exactly its bytes. */
function owned(plain: Buffer): ArrayBuffer {
  if (plain.byteOffset === 0 && plain.buffer.byteLength === plain.byteLength) return plain.buffer as ArrayBuffer;
  return new Uint8Array(plain).buffer as ArrayBuffer;
}
