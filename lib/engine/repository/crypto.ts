// Authenticated encryption (AES-256-GCM), keyed blob ids (HMAC-SHA-256) and the passphrase KDF (scrypt).
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt } from 'node:crypto';

import { EngineError } from '../errors';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** What encryption adds to every sealed object: the nonce in front and the tag behind. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** The secrets that open a repository; never written anywhere unwrapped. */
export interface MasterKey {
  /** AES-256-GCM key for every blob, pack header, index and snapshot. */
  encryption: Buffer;
  /** HMAC-SHA-256 key for blob ids, so ids reveal nothing about the plaintext. */
  id: Buffer;
  /** Seeds the chunker's gear table, so chunk boundaries do not fingerprint content. */
  chunker: Buffer;
}

export function generateMasterKey(): MasterKey {
  return { encryption: randomBytes(32), id: randomBytes(32), chunker: randomBytes(32) };
}

/** Encrypts: nonce ‖ ciphertext ‖ tag. `context` is authenticated too, so an object of one kind
 *  cannot be passed off as another. */
export function seal(key: Buffer, plaintext: Uint8Array | Uint8Array[], context?: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  if (context) cipher.setAAD(Buffer.from(context));
  const parts: Buffer[] = [nonce];
  for (const p of Array.isArray(plaintext) ? plaintext : [plaintext]) parts.push(cipher.update(p));
  parts.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(parts);
}

export function open(key: Buffer, sealed: Uint8Array, context?: string, what = 'object'): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new EngineError('corrupt', `${what} is truncated`);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE_BYTES));
  if (context) decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  try {
    const body = decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES));
    const tail = decipher.final();
    return tail.length ? Buffer.concat([body, tail]) : body;
  } catch (err) {
    throw new EngineError('corrupt', `${what} failed authentication: it was altered or damaged`, { cause: err });
  }
}

export function blobId(idKey: Buffer, plaintext: Uint8Array): string {
  return createHmac('sha256', idKey).update(plaintext).digest('hex');
}

export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

/** scrypt at 2^16 × 8 in two lanes: the work of 2^17 × 8 (about half a second here) in 64 MiB instead of 128, the
 *  memory Kopia's default takes (restic's calibration lands on 32 MiB: 2^15 × 8, p = 8). Every command opens a key,
 *  so this memory is the floor of every command's peak; keys made with other costs keep theirs. */
export const STRONG_KDF: KdfParams = { N: 2 ** 16, r: 8, p: 2 };

/** The cost of a key made now: STRONG_KDF, unless LIFELINE_TEST_KDF=cheap (2^10 × 8, one lane), which the test
 *  suites set so that the hundreds of repositories their processes make and open do not spend minutes of CPU in
 *  scrypt. A key keeps the cost it was made with, so this never weakens a key that exists. */
export function newKeyKdf(): KdfParams {
  return process.env.LIFELINE_TEST_KDF === 'cheap' ? { N: 2 ** 10, r: 8, p: 1 } : STRONG_KDF;
}

export function deriveKey(passphrase: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  const maxmem = 128 * params.N * params.r * params.p + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { ...params, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}
