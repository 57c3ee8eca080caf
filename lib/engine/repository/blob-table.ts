// The in-memory index of blobs: where each blob is (pack, offset, length, plaintext length, type), for every index
// file of the repository, in about 33 bytes a blob (16 of key, 12 of location, 4 in the lookup order, and buckets).
// Millions of blobs as JavaScript objects and strings would cost ~330 B each, and V8's Map stops near 16.7 M
// entries; here the table is a few typed arrays.
//
// A blob is keyed by the first 128 bits of its 256-bit id. Ids are keyed hashes of the plaintext (HMAC-SHA-256 under
// the repository's id key), so two blobs whose keys agree are a chance of about n² / 2^129 (1.5e-25 at 10 M blobs)
// for anyone without the key; whoever has the key can write any index anyway. A restore still checks each blob it
// reads against its whole id (decodeBlob), and verify compares every index entry with its pack's header.
//
// Records are appended in the order packs are added and never change. Lookups go through buckets on the key's top
// bits (`order` lists the records bucket by bucket, each bucket in the order they were added, so the first pack
// that listed a blob is the one found), rebuilt in one pass when enough records came after the last build; those
// that came after are found through a small map until then (about 90 bytes each, at most a 32nd of the table). A
// build's arrays are shared memory that is never written again once built: a worker thread can look ids up in them
// (`BlobKeys`) while the table grows.

import { MAX_RAW_LENGTH } from './pack';

const SEGMENT_BITS = 16;
const SEGMENT_RECORDS = 1 << SEGMENT_BITS;
const SEGMENT_MASK = SEGMENT_RECORDS - 1;
/** Key words (32 bits each) and location words per record. */
const KEY_WORDS = 4;
const LOC_WORDS = 3;
/** About this many records per bucket. */
const BUCKET_LOAD = 8;
const MAX_BUCKET_BITS = 24;
const TYPE_BIT = 0x8000_0000;
/** Ids a worker remembers having handed on (BlobKeys.add). */
const ADDED_LIMIT = 1 << 17;

export type BlobTypeCode = 0 | 1;

/** A build of the table's lookup structure: what a worker thread is given to look blob ids up. */
export interface BlobKeysView {
  /** Key segments, SEGMENT_RECORDS × KEY_WORDS words each. */
  keys: SharedArrayBuffer[];
  /** Record numbers, bucket by bucket. */
  order: SharedArrayBuffer;
  /** Where each bucket starts in `order`; one more than the buckets. */
  starts: SharedArrayBuffer;
  bits: number;
}

const idBytes = new Uint32Array(8);
const idView = Buffer.from(idBytes.buffer);

/** Hex digits' values by character code; 255 for any other character. */
const HEX = new Uint8Array(256).fill(255);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = HEX['0123456789ABCDEF'.charCodeAt(i)] = i;

/** Parses 64 hex digits of `bytes` from `at` into `idBytes`: false if they are not hex digits. */
function parseKeyBytes(bytes: Uint8Array, at: number): boolean {
  let bad = 0;
  for (let i = 0; i < 32; i++) {
    const hi = HEX[bytes[at + 2 * i]];
    const lo = HEX[bytes[at + 2 * i + 1]];
    bad |= hi | lo;
    idView[i] = (hi << 4) | lo;
  }
  return bad < 16;
}

/** Parses a blob id's key into `idBytes[0..3]`: false if `id` is not 64 hex digits (only the key's 32 are parsed
 *  unless `whole`). */
function parseKey(id: string, whole: boolean): boolean {
  if (id.length !== 64) return false;
  return whole ? idView.write(id, 0, 32, 'hex') === 32 : idView.write(id, 0, 16, 'hex') === 16;
}

function bucketOf(word0: number, bits: number): number {
  return bits === 0 ? 0 : word0 >>> (32 - bits);
}

/** Looks keys up in one build. */
class Buckets {
  readonly keys: Uint32Array[];
  readonly order: Uint32Array;
  readonly starts: Uint32Array;

  constructor(readonly view: BlobKeysView) {
    this.keys = view.keys.map((b) => new Uint32Array(b));
    this.order = new Uint32Array(view.order);
    this.starts = new Uint32Array(view.starts);
  }

  /** The first record with the key in `idBytes[0..3]`, or -1. */
  find(): number {
    const w0 = idBytes[0];
    const b = bucketOf(w0, this.view.bits);
    for (let i = this.starts[b], end = this.starts[b + 1]; i < end; i++) {
      const r = this.order[i];
      const seg = this.keys[r >>> SEGMENT_BITS];
      const at = (r & SEGMENT_MASK) * KEY_WORDS;
      if (seg[at] === w0 && seg[at + 1] === idBytes[1] && seg[at + 2] === idBytes[2] && seg[at + 3] === idBytes[3])
        return r;
    }
    return -1;
  }
}

export interface TableLocation {
  pack: number;
  type: BlobTypeCode;
  offset: number;
  length: number;
  rawLength: number;
}

export class BlobTable {
  private keySegments: Uint32Array[] = [];
  /** Offset, length, and plaintext length with the type in its top bit. */
  private locSegments: Uint32Array[] = [];
  /** A pack's blobs are added together: its records are a range, and a range's first record and pack are all
   *  that says which pack a record is in (a pack listed by two index files has two ranges). */
  private rangeStarts: number[] = [];
  private rangePacks: number[] = [];
  private count = 0;
  private built: Buckets | null = null;
  private builtCount = 0;
  /** Records from `builtCount` to `tailCount`, by their key's first word. */
  private tail = new Map<number, number[]>();
  private tailCount = 0;

  get records(): number {
    return this.count;
  }

  /** Appends a record; false (and nothing added) if `id` is not 64 hex digits or a field is out of range. */
  add(id: string, pack: number, type: BlobTypeCode, offset: number, length: number, rawLength: number): boolean {
    return parseKey(id, true) && this.addParsed(pack, type, offset, length, rawLength);
  }

  /** As `add`, for an id given as the `idLength` bytes of `bytes` at `at`. */
  addBytes(
    bytes: Uint8Array,
    at: number,
    idLength: number,
    pack: number,
    type: BlobTypeCode,
    offset: number,
    length: number,
    rawLength: number,
  ): boolean {
    return idLength === 64 && parseKeyBytes(bytes, at) && this.addParsed(pack, type, offset, length, rawLength);
  }

  private addParsed(pack: number, type: BlobTypeCode, offset: number, length: number, rawLength: number): boolean {
    if (!isLocation(pack, offset, length, rawLength)) return false;
    const r = this.count;
    if ((r & SEGMENT_MASK) === 0) {
      this.keySegments.push(new Uint32Array(new SharedArrayBuffer(SEGMENT_RECORDS * KEY_WORDS * 4)));
      this.locSegments.push(new Uint32Array(SEGMENT_RECORDS * LOC_WORDS));
    }
    const keys = this.keySegments[r >>> SEGMENT_BITS];
    const locs = this.locSegments[r >>> SEGMENT_BITS];
    keys.set(idBytes.subarray(0, KEY_WORDS), (r & SEGMENT_MASK) * KEY_WORDS);
    const at = (r & SEGMENT_MASK) * LOC_WORDS;
    locs[at] = offset;
    locs[at + 1] = length;
    locs[at + 2] = rawLength | (type === 1 ? TYPE_BIT : 0);
    if (this.rangePacks.at(-1) !== pack) {
      this.rangeStarts.push(r);
      this.rangePacks.push(pack);
    }
    this.count++;
    return true;
  }

  /** The first record added for `id`, or -1. */
  find(id: string): number {
    if (!parseKey(id, false)) return -1;
    return this.findParsed();
  }

  location(record: number): TableLocation {
    const locs = this.locSegments[record >>> SEGMENT_BITS];
    const at = (record & SEGMENT_MASK) * LOC_WORDS;
    const last = locs[at + 2];
    return {
      pack: this.packOf(record),
      offset: locs[at],
      length: locs[at + 1],
      rawLength: (last & ~TYPE_BIT) >>> 0,
      type: last & TYPE_BIT ? 1 : 0,
    };
  }

  /** The pack of a record: that of the last range starting at or before it. */
  packOf(record: number): number {
    let lo = 0;
    let hi = this.rangeStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.rangeStarts[mid] <= record) lo = mid;
      else hi = mid - 1;
    }
    return this.rangePacks[lo];
  }

  /** Records whose key no earlier record has: the number of distinct blobs. */
  distinct(): number {
    this.catchUp();
    let n = 0;
    for (let r = 0; r < this.count; r++) {
      const keys = this.keySegments[r >>> SEGMENT_BITS];
      idBytes.set(keys.subarray((r & SEGMENT_MASK) * KEY_WORDS, (r & SEGMENT_MASK) * KEY_WORDS + KEY_WORDS));
      if (this.findParsed() === r) n++;
    }
    return n;
  }

  /** The lookup structure as built now, covering every record: for worker threads (BlobKeys). */
  share(): BlobKeysView {
    if (this.builtCount < this.count || !this.built) this.build();
    return this.built!.view;
  }

  /** Drops the records from `records` on (the ones a failed load added). */
  truncate(records: number): void {
    if (records >= this.count) return;
    this.count = records;
    this.keySegments.length = this.locSegments.length = Math.ceil(records / SEGMENT_RECORDS);
    // A shared build may still read the records dropped (a worker's view): the segment records go on being added
    // to is a copy, never the one shared.
    const last = this.keySegments.length - 1;
    if (records < this.builtCount && records % SEGMENT_RECORDS !== 0) {
      const copy = new Uint32Array(new SharedArrayBuffer(SEGMENT_RECORDS * KEY_WORDS * 4));
      copy.set(this.keySegments[last]);
      this.keySegments[last] = copy;
    }
    while (this.rangeStarts.length > 0 && this.rangeStarts.at(-1)! >= records) {
      this.rangeStarts.pop();
      this.rangePacks.pop();
    }
    if (this.builtCount > records) {
      this.built = null;
      this.builtCount = 0;
    }
    if (this.tailCount > records) {
      this.tail.clear();
      this.tailCount = this.builtCount;
    }
  }

  clear(): void {
    this.keySegments = [];
    this.locSegments = [];
    this.rangeStarts = [];
    this.rangePacks = [];
    this.count = 0;
    this.built = null;
    this.builtCount = 0;
    this.tail.clear();
    this.tailCount = 0;
  }

  private findParsed(): number {
    this.catchUp();
    const r = this.built ? this.built.find() : -1;
    if (r >= 0) return r;
    const candidates = this.tail.get(idBytes[0]);
    if (!candidates) return -1;
    for (const c of candidates) {
      const keys = this.keySegments[c >>> SEGMENT_BITS];
      const at = (c & SEGMENT_MASK) * KEY_WORDS;
      if (keys[at + 1] === idBytes[1] && keys[at + 2] === idBytes[2] && keys[at + 3] === idBytes[3]) return c;
    }
    return -1;
  }

  /** Makes every record findable: rebuilds once the records since the last build pass a 32nd of it (so a
   *  table loaded in one go is built once, and one that grows by a backup's packs is rebuilt rarely), else puts
   *  the new ones in the tail map. */
  private catchUp(): void {
    if (this.tailCount === this.count) return;
    if (this.count - this.builtCount > Math.max(SEGMENT_RECORDS, this.builtCount >>> 5)) {
      this.build();
      return;
    }
    for (; this.tailCount < this.count; this.tailCount++) {
      const r = this.tailCount;
      const first = this.keySegments[r >>> SEGMENT_BITS][(r & SEGMENT_MASK) * KEY_WORDS];
      const list = this.tail.get(first);
      if (list) list.push(r);
      else this.tail.set(first, [r]);
    }
  }

  /** Groups every record by bucket (a counting sort: two passes, stable, so each bucket keeps the order records
   *  were added in). */
  private build(): void {
    const n = this.count;
    this.built = null;
    this.tail.clear();
    let bits = 0;
    while (bits < MAX_BUCKET_BITS && 2 ** bits * BUCKET_LOAD < n) bits++;
    const buckets = 2 ** bits;
    const startsBuffer = new SharedArrayBuffer((buckets + 1) * 4);
    const starts = new Uint32Array(startsBuffer);
    for (let r = 0; r < n; r++) starts[bucketOf(this.firstWord(r), bits) + 1]++;
    for (let b = 0; b < buckets; b++) starts[b + 1] += starts[b];
    const orderBuffer = new SharedArrayBuffer(Math.max(1, n) * 4);
    const order = new Uint32Array(orderBuffer);
    // starts[b] serves as bucket b's cursor, after which it holds where bucket b + 1 starts: shifted back after.
    for (let r = 0; r < n; r++) order[starts[bucketOf(this.firstWord(r), bits)]++] = r;
    starts.copyWithin(1, 0, buckets);
    starts[0] = 0;
    this.built = new Buckets({
      keys: this.keySegments.map((s) => s.buffer as SharedArrayBuffer),
      order: orderBuffer,
      starts: startsBuffer,
      bits,
    });
    this.builtCount = n;
    this.tailCount = n;
  }

  private firstWord(record: number): number {
    return this.keySegments[record >>> SEGMENT_BITS][(record & SEGMENT_MASK) * KEY_WORDS];
  }
}

/** Blob ids a worker thread knows: those of a shared build (BlobTable.share), and those it adds itself. */
export class BlobKeys {
  private readonly buckets: Buckets | null;
  private readonly added = new Set<string>();

  constructor(view: BlobKeysView | null) {
    this.buckets = view ? new Buckets(view) : null;
  }

  has(id: string): boolean {
    if (this.added.has(id)) return true;
    return this.buckets !== null && parseKey(id, false) && this.buckets.find() >= 0;
  }

  /** Notes an id handed on. Forgotten in bulk past ADDED_LIMIT (a backup of millions of new files would otherwise
   *  hold every id in every worker): a blob sealed twice is stored once all the same (BlobWriter), only later. */
  add(id: string): void {
    if (this.added.size >= ADDED_LIMIT) this.added.clear();
    this.added.add(id);
  }
}

/** Whether the table takes a blob with this id and location: `add` gives true for exactly these. */
export function isBlobRecord(id: string, pack: number, offset: number, length: number, rawLength: number): boolean {
  return parseKey(id, true) && isLocation(pack, offset, length, rawLength);
}

function isLocation(pack: number, offset: number, length: number, rawLength: number): boolean {
  return isUint32(pack) && isUint32(offset) && isUint32(length) && isUint32(rawLength) && rawLength <= MAX_RAW_LENGTH;
}

function isUint32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}
