// Pack files: sealed blobs back to back, then a sealed header that lists them, then the header's length.
import { createHash } from 'node:crypto';

import { EngineError } from '../errors';
import type { BlobType } from './blob-codec';
import { open, SEAL_OVERHEAD, seal } from './crypto';
import type { Storage } from './storage';

export interface PackEntry {
  type: BlobType;
  id: string;
  /** Where the sealed blob starts in the pack. */
  offset: number;
  /** Length of the sealed blob. */
  length: number;
  /** Length of the blob's plaintext: where a blob ends in the file it belongs to is known before it is read. */
  rawLength: number;
}

/** A pack is written once it reaches this size (LIFELINE_TEST_PACK_BYTES: tests that crash a backup between
 *  packs make them small, and need a quarter of the data for as many packs). */
export const PACK_TARGET_BYTES = Number(process.env.LIFELINE_TEST_PACK_BYTES) || 16 * 1024 * 1024;
const HEADER_CONTEXT = 'lifeline pack header';
const ENTRY_BYTES = 1 + 4 + 4 + 32;
const TYPE_CODES: Record<BlobType, number> = { data: 0, tree: 1 };
const TRAILER_BYTES = 4;
/** The largest blob: the chunker's largest chunk may not exceed it (chunker.ts). */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;
/** The largest plaintext any blob may have: a data blob is a chunk (at most MAX_BLOB_BYTES), a tree one string of
 *  JSON (V8 caps a string near 2^29 characters); the index keeps the type in the top bit of a 32-bit length. */
export const MAX_RAW_LENGTH = 0x7fff_ffff;
/** The largest a pack may be: offsets are 32-bit in the index. */
const MAX_PACK_OFFSET = 0xffff_ffff;
/** A pack is also written once it holds this many blobs, which bounds its header. */
export const MAX_PACK_BLOBS = 65_536;
/** The largest pack a writer produces: one just short of the target, plus the largest blob sealed (a flag byte and
 *  the seal), plus the header of the most blobs, plus the trailer. It is also the largest object a node may
 *  upload: the storage API refuses anything longer before reading it. */
export const MAX_PACK_BYTES =
  PACK_TARGET_BYTES -
  1 +
  (MAX_BLOB_BYTES + 1 + SEAL_OVERHEAD) +
  (MAX_PACK_BLOBS * ENTRY_BYTES + SEAL_OVERHEAD) +
  TRAILER_BYTES;

export class PackBuilder {
  readonly entries: PackEntry[] = [];
  private parts: Buffer[] = [];
  size = 0;

  add(type: BlobType, id: string, sealed: Buffer, rawLength: number): void {
    this.entries.push({ type, id, offset: this.size, length: sealed.length, rawLength });
    this.parts.push(sealed);
    this.size += sealed.length;
  }

  get count(): number {
    return this.entries.length;
  }

  /** The finished pack and its id (SHA-256 of its bytes, so storage damage shows without the key). */
  finish(encryptionKey: Buffer): { id: string; bytes: Buffer; entries: PackEntry[] } {
    const header = Buffer.alloc(this.entries.length * ENTRY_BYTES);
    this.entries.forEach((e, i) => {
      const at = i * ENTRY_BYTES;
      header[at] = TYPE_CODES[e.type];
      header.writeUInt32LE(e.length, at + 1);
      header.writeUInt32LE(e.rawLength, at + 5);
      Buffer.from(e.id, 'hex').copy(header, at + 9);
    });
    const sealedHeader = seal(encryptionKey, header, HEADER_CONTEXT);
    const trailer = Buffer.alloc(TRAILER_BYTES);
    trailer.writeUInt32LE(sealedHeader.length);
    const bytes = Buffer.concat([...this.parts, sealedHeader, trailer]);
    // The blobs are in `bytes` now: while the pack is written they are not held twice.
    this.parts = [];
    return { id: createHash('sha256').update(bytes).digest('hex'), bytes, entries: this.entries };
  }
}

/** How many bytes from the end of a pack to read to get its whole header, given the pack's trailer. */
export function headerSpan(trailer: Buffer): number {
  return trailer.readUInt32LE(trailer.length - TRAILER_BYTES) + TRAILER_BYTES;
}

/** Parses a pack's header from the pack's last bytes (at least `headerSpan` of them). */
export function readPackHeader(encryptionKey: Buffer, tail: Buffer, packSize: number, packId: string): PackEntry[] {
  const what = `pack ${packId.slice(0, 12)}`;
  if (tail.length < TRAILER_BYTES) throw new EngineError('corrupt', `${what} is too short to have a header`);
  const span = headerSpan(tail);
  if (span > tail.length || span > packSize) throw new EngineError('corrupt', `${what} has a damaged header length`);
  const header = open(
    encryptionKey,
    tail.subarray(tail.length - span, tail.length - TRAILER_BYTES),
    HEADER_CONTEXT,
    `${what} header`,
  );
  if (header.length % ENTRY_BYTES !== 0) throw new EngineError('corrupt', `${what} header has a bad size`);
  const entries: PackEntry[] = [];
  let offset = 0;
  for (let at = 0; at < header.length; at += ENTRY_BYTES) {
    const code = header[at];
    if (code !== 0 && code !== 1) throw new EngineError('corrupt', `${what} header names an unknown blob type`);
    const length = header.readUInt32LE(at + 1);
    const rawLength = header.readUInt32LE(at + 5);
    if (rawLength > MAX_RAW_LENGTH || offset + length > MAX_PACK_OFFSET)
      throw new EngineError('corrupt', `${what} header lists a blob larger than any blob may be`);
    entries.push({
      type: code === 0 ? 'data' : 'tree',
      id: header.subarray(at + 9, at + ENTRY_BYTES).toString('hex'),
      offset,
      length,
      rawLength,
    });
    offset += length;
  }
  if (offset + span !== packSize)
    throw new EngineError('corrupt', `${what} header does not account for the pack's bytes`);
  return entries;
}

/** Reads a stored pack's own header: its last 64 KiB, or the whole header if that is longer. */
export async function fetchPackHeader(
  storage: Storage,
  encryptionKey: Buffer,
  packId: string,
  packSize: number,
): Promise<PackEntry[]> {
  let tail = await storage.get(`data/${packId}`, { offset: -Math.min(packSize, 64 * 1024) });
  const span = headerSpan(tail);
  if (span > tail.length && span <= packSize) tail = await storage.get(`data/${packId}`, { offset: -span });
  return readPackHeader(encryptionKey, tail, packSize, packId);
}

/** Whether an index's entries for a pack say exactly what the pack's own header says. */
export function sameEntries(header: PackEntry[], listed: PackEntry[]): boolean {
  if (header.length !== listed.length) return false;
  const byOffset = (a: PackEntry, b: PackEntry) => a.offset - b.offset;
  const h = [...header].sort(byOffset);
  const l = [...listed].sort(byOffset);
  return h.every(
    (e, i) =>
      e.type === l[i].type &&
      e.id === l[i].id &&
      e.offset === l[i].offset &&
      e.length === l[i].length &&
      e.rawLength === l[i].rawLength,
  );
}
