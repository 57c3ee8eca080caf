// SQLite's write-ahead log, as SQLite writes it (https://www.sqlite.org/fileformat2.html#the_write_ahead_log): a
// 32-byte header, then frames of a 24-byte header and one page each. A frame belongs to the log only if its salts
// are the header's and its checksum continues the chain from the header through every frame before it; a
// transaction is committed once its last frame (the one that gives the database's size after it) is in the log.
// Replication reads committed frames in order and moves them verbatim, so a replica's log checks out exactly as
// the primary's did, and its chain proves that nothing was skipped, reordered or altered on the way.

import { readChunks, readRange } from './sync-files';

export const WAL_HEADER_BYTES = 32;
export const FRAME_HEADER_BYTES = 24;
const MAGIC_LE = 0x377f0682;
const MAGIC_BE = 0x377f0683;
const WAL_VERSION = 3007000;
/** How much of a log scanLogFile reads at once. */
const SCAN_CHUNK_BYTES = 8 * 2 ** 20;

export interface WalHeader {
  /** Whether checksums read their 32-bit words big-endian (the magic's low bit). */
  bigEndianChecksum: boolean;
  pageSize: number;
  checkpointSeq: number;
  salt1: number;
  salt2: number;
  checksum1: number;
  checksum2: number;
}

/** The running checksum of the log through some frame (or the header). */
export interface Checksum {
  s1: number;
  s2: number;
}

/** SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `from`. */
export function walChecksum(data: Uint8Array, bigEndian: boolean, from: Checksum): Checksum {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let s1 = from.s1;
  let s2 = from.s2;
  for (let i = 0; i < data.byteLength; i += 8) {
    s1 = (s1 + view.getUint32(i, !bigEndian) + s2) >>> 0;
    s2 = (s2 + view.getUint32(i + 4, !bigEndian) + s1) >>> 0;
  }
  return { s1, s2 };
}

/** The log's header, or null where there is none (an empty or missing log) or it does not check out. */
export function parseWalHeader(bytes: Uint8Array): WalHeader | null {
  if (bytes.byteLength < WAL_HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, WAL_HEADER_BYTES);
  const magic = view.getUint32(0);
  if ((magic !== MAGIC_LE && magic !== MAGIC_BE) || view.getUint32(4) !== WAL_VERSION) return null;
  const header: WalHeader = {
    bigEndianChecksum: magic === MAGIC_BE,
    pageSize: view.getUint32(8),
    checkpointSeq: view.getUint32(12),
    salt1: view.getUint32(16),
    salt2: view.getUint32(20),
    checksum1: view.getUint32(24),
    checksum2: view.getUint32(28),
  };
  const sum = walChecksum(bytes.subarray(0, 24), header.bigEndianChecksum, { s1: 0, s2: 0 });
  const validSize =
    header.pageSize >= 512 && header.pageSize <= 65536 && (header.pageSize & (header.pageSize - 1)) === 0;
  if (!validSize || sum.s1 !== header.checksum1 || sum.s2 !== header.checksum2) return null;
  return header;
}

/** Where a log's checksum chain starts: its header's checksum. */
export function headerChecksum(header: WalHeader): Checksum {
  return { s1: header.checksum1, s2: header.checksum2 };
}

export function frameBytes(header: WalHeader): number {
  return FRAME_HEADER_BYTES + header.pageSize;
}

/** The byte offset in the log of frame `index` (frames count from 1, as SQLite's do). */
export function frameOffset(header: WalHeader, index: number): number {
  return WAL_HEADER_BYTES + (index - 1) * frameBytes(header);
}

export interface FrameScan {
  /** The last frame that ends a committed transaction (0: none), and the chain through it. */
  commitFrame: number;
  commitChecksum: Checksum;
  /** The database's size in pages after that commit. */
  commitPages: number;
  /** The number of the frames read that belong to the log (committed or not). */
  validFrames: number;
}

/** Follows the chain through `frames` (whole frames, the first being frame `firstIndex`, whose chain continues
 *  from `from`) and says which of them are committed. Stops at the first frame that is not the log's. */
export function scanFrames(header: WalHeader, frames: Uint8Array, firstIndex: number, from: Checksum): FrameScan {
  const size = frameBytes(header);
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
  let chain = from;
  const scan: FrameScan = { commitFrame: firstIndex - 1, commitChecksum: from, commitPages: 0, validFrames: 0 };
  for (let offset = 0; offset + size <= frames.byteLength; offset += size) {
    if (view.getUint32(offset + 8) !== header.salt1 || view.getUint32(offset + 12) !== header.salt2) break;
    chain = walChecksum(frames.subarray(offset, offset + 8), header.bigEndianChecksum, chain);
    chain = walChecksum(frames.subarray(offset + FRAME_HEADER_BYTES, offset + size), header.bigEndianChecksum, chain);
    if (chain.s1 !== view.getUint32(offset + 16) || chain.s2 !== view.getUint32(offset + 20)) break;
    scan.validFrames++;
    const pages = view.getUint32(offset + 4);
    if (pages !== 0) {
      scan.commitFrame = firstIndex + offset / size;
      scan.commitChecksum = chain;
      scan.commitPages = pages;
    }
  }
  return scan;
}

/** scanFrames over a log's file from frame `firstIndex` (chain `from`) to its end, or through frame `lastIndex`,
 *  a few MiB at a time: the memory it takes does not grow with the log. */
export function scanLogFile(
  file: string | number,
  header: WalHeader,
  firstIndex: number,
  from: Checksum,
  lastIndex = Number.POSITIVE_INFINITY,
): FrameScan {
  const size = frameBytes(header);
  const chunkFrames = Math.max(1, Math.floor(SCAN_CHUNK_BYTES / size));
  const total: FrameScan = { commitFrame: firstIndex - 1, commitChecksum: from, commitPages: 0, validFrames: 0 };
  let next = firstIndex;
  let chain = from;
  readChunks(file, frameOffset(header, firstIndex), chunkFrames * size, (bytes) => {
    const whole = Math.min(Math.floor(bytes.length / size), lastIndex - next + 1);
    if (whole <= 0) return false;
    const scan = scanFrames(header, bytes.subarray(0, whole * size), next, chain);
    total.validFrames += scan.validFrames;
    if (scan.commitFrame >= next) {
      total.commitFrame = scan.commitFrame;
      total.commitChecksum = scan.commitChecksum;
      total.commitPages = scan.commitPages;
    }
    if (scan.validFrames < whole) return false;
    // The chain through the last frame read is the one stored in its header.
    const last = (whole - 1) * size;
    chain = { s1: bytes.readUInt32BE(last + 16), s2: bytes.readUInt32BE(last + 20) };
    next += whole;
    return next <= lastIndex;
  });
  return total;
}

/** The chain through frame `index` of a log's file that checks out from its header to there (null: it does not,
 *  or the file ends before it). */
export function chainThrough(file: string | number, header: WalHeader, index: number): Checksum | null {
  if (index === 0) return headerChecksum(header);
  const scan = scanLogFile(file, header, 1, headerChecksum(header), index);
  if (scan.validFrames < index) return null;
  const frame = readRange(file, frameOffset(header, index), FRAME_HEADER_BYTES);
  return { s1: frame.readUInt32BE(16), s2: frame.readUInt32BE(20) };
}

/** Two headers name the same log: a restarted log has new salts. */
export function sameLog(
  a: Pick<WalHeader, 'salt1' | 'salt2' | 'pageSize'>,
  b: Pick<WalHeader, 'salt1' | 'salt2' | 'pageSize'>,
): boolean {
  return a.salt1 === b.salt1 && a.salt2 === b.salt2 && a.pageSize === b.pageSize;
}
