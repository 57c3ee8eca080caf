// A blob as stored in a pack: one flag byte (stored or zstd) and the payload, sealed together.
import { compress, decompress } from 'zstd-napi';

import { EngineError } from '../errors';
import { blobId, open, seal } from './crypto';

const STORED = 0;
const ZSTD = 1;
/** zstd level 3: within a few percent of level 1's speed here and a smaller repository. */
const ZSTD_LEVEL = 3;
const BLOB_CONTEXT = 'lifeline blob';

export type BlobType = 'data' | 'tree';

/** Compresses where it pays (incompressible chunks are stored as they are), then encrypts. */
export function encodeBlob(key: Buffer, plaintext: Uint8Array): Buffer {
  if (plaintext.length >= 64) {
    const packed = compress(plaintext, { compressionLevel: ZSTD_LEVEL });
    if (packed.length < plaintext.length - plaintext.length / 32)
      return seal(key, [Uint8Array.of(ZSTD), packed], BLOB_CONTEXT);
  }
  return seal(key, [Uint8Array.of(STORED), plaintext], BLOB_CONTEXT);
}

/** Decrypts and decompresses a blob, then checks that its content hashes to the id it is stored under. */
export function decodeBlob(keys: { encryption: Buffer; id: Buffer }, sealed: Uint8Array, expectedId: string): Buffer {
  const inner = open(keys.encryption, sealed, BLOB_CONTEXT, `blob ${expectedId.slice(0, 12)}`);
  let plaintext: Buffer;
  if (inner[0] === STORED) plaintext = inner.subarray(1);
  else if (inner[0] === ZSTD) {
    try {
      plaintext = decompress(inner.subarray(1));
    } catch (err) {
      throw new EngineError('corrupt', `blob ${expectedId.slice(0, 12)} does not decompress`, { cause: err });
    }
  } else throw new EngineError('corrupt', `blob ${expectedId.slice(0, 12)} has an unknown encoding ${inner[0]}`);
  if (blobId(keys.id, plaintext) !== expectedId) {
    throw new EngineError('corrupt', `blob ${expectedId.slice(0, 12)} does not match its id`);
  }
  return plaintext;
}
