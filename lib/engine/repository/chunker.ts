// Content-defined chunking (FastCDC with normalised chunking) over a gear table derived from a repository
// secret, so that chunk boundaries, and so chunk sizes, do not fingerprint the content.
import { createHmac } from 'node:crypto';

import { MAX_BLOB_BYTES } from './pack';

export interface ChunkerParams {
  min: number;
  avg: number;
  max: number;
}

/** Chosen by bench/chunk-params.mjs: see docs/benchmarks.md. */
export const DEFAULT_CHUNKER: ChunkerParams = { min: 256 * 1024, avg: 1024 * 1024, max: 4 * 1024 * 1024 };

export function validateChunkerParams(p: ChunkerParams): string | null {
  const pow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!pow2(p.avg)) return 'the average chunk size must be a power of two';
  if (!(p.min >= 64 && p.min < p.avg && p.avg < p.max && p.max <= MAX_BLOB_BYTES)) {
    return 'chunk sizes must satisfy 64 ≤ min < avg < max ≤ 64 MiB';
  }
  return null;
}

export function gearTable(key: Buffer): Int32Array {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i += 8) {
    const block = createHmac('sha256', key).update(`gear:${i}`).digest();
    for (let j = 0; j < 8; j++) table[i + j] = block.readInt32LE(j * 4);
  }
  return table;
}

/** A mask of `bits` one-bits spread over the word, every other bit from the top first: the high bits of a gear
 *  hash depend on the most bytes of the window. */
function mask(bits: number): number {
  let m = 0;
  for (let i = 0; i < bits; i++) m |= 1 << (i < 16 ? 31 - 2 * i : 30 - 2 * (i - 16));
  return m | 0;
}

/** Splits a stream of buffers into chunks; feed with push(), then call finish(). A chunk handed to `emit` may share
 *  memory with the buffer just pushed, and is valid only during that call; the chunker keeps a copy of what it
 *  holds between pushes, so a caller may read into the same buffer again. */
export class Chunker {
  private readonly maskS: number;
  private readonly maskL: number;
  private hash = 0;
  private length = 0;
  private parts: Buffer[] = [];

  constructor(
    private readonly gear: Int32Array,
    private readonly params: ChunkerParams,
  ) {
    const bits = Math.log2(params.avg);
    // Normalisation level 2: harder to cut before the average size, easier after it.
    this.maskS = mask(Math.min(bits + 2, 30));
    this.maskL = mask(Math.max(bits - 2, 1));
  }

  push(data: Buffer, emit: (chunk: Buffer) => void): void {
    const { min, avg, max } = this.params;
    const { gear, maskS, maskL } = this;
    const n = data.length;
    let h = this.hash;
    let len = this.length;
    let i = 0;
    let start = 0;
    while (i < n) {
      if (len < min) {
        // FastCDC skips the minimum size: no cut can fall there, so there is nothing to hash.
        const skip = Math.min(min - len, n - i);
        i += skip;
        len += skip;
        if (len < min) break;
      }
      let cut = false;
      if (len < avg) {
        const from = i;
        const end = Math.min(n, i + (avg - len));
        for (; i < end; i++) {
          h = ((h << 1) + gear[data[i]]) | 0;
          if ((h & maskS) === 0) {
            i++;
            cut = true;
            break;
          }
        }
        len += i - from;
      }
      if (!cut && len >= avg && i < n) {
        const from = i;
        const end = Math.min(n, i + (max - len));
        for (; i < end; i++) {
          h = ((h << 1) + gear[data[i]]) | 0;
          if ((h & maskL) === 0) {
            i++;
            cut = true;
            break;
          }
        }
        len += i - from;
        if (len >= max) cut = true;
      }
      if (cut) {
        const tail = data.subarray(start, i);
        emit(this.parts.length > 0 ? Buffer.concat([...this.parts, tail]) : tail);
        this.parts = [];
        start = i;
        h = 0;
        len = 0;
      }
    }
    if (start < n) this.parts.push(Buffer.from(data.subarray(start)));
    this.hash = h;
    this.length = len;
  }

  finish(emit: (chunk: Buffer) => void): void {
    if (this.parts.length > 0) emit(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts));
    this.parts = [];
    this.hash = 0;
    this.length = 0;
  }
}
