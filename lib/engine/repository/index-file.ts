// Index files map each blob to its pack, offset and length; the in-memory index merges all of them.
import { compress, decompress } from 'zstd-napi';

import { EngineError } from '../errors';
import type { BlobType } from './blob-codec';
import { open, seal } from './crypto';
import { BlobTable, type BlobKeysView, type BlobTypeCode, isBlobRecord } from './blob-table';
import { scanIndexJson } from './index-scan';
import type { PackEntry } from './pack';

const INDEX_CONTEXT = 'lifeline index';
const PACK_ID = /^[0-9a-f]{64}$/;
const TYPE_CODES = new Map<unknown, BlobTypeCode>([
  ['data', 0],
  ['tree', 1],
]);

export interface IndexedPack {
  id: string;
  blobs: PackEntry[];
}

export interface IndexFile {
  /** Index files this one replaces; they may be deleted once this one is written. */
  supersedes: string[];
  packs: IndexedPack[];
}

export interface BlobLocation {
  pack: string;
  type: BlobType;
  offset: number;
  length: number;
  rawLength: number;
}

export function encodeIndex(encryptionKey: Buffer, index: IndexFile): Buffer {
  return seal(encryptionKey, compress(Buffer.from(JSON.stringify(index))), INDEX_CONTEXT);
}

export function decodeIndex(encryptionKey: Buffer, sealed: Buffer, id: string): IndexFile {
  return parseIndex(openIndex(encryptionKey, sealed, id), id);
}

/** An index file's JSON, once it opens with the key and decompresses. */
export function openIndex(encryptionKey: Buffer, sealed: Buffer, id: string): Buffer {
  const plain = open(encryptionKey, sealed, INDEX_CONTEXT, `index ${id.slice(0, 12)}`);
  try {
    return decompress(plain);
  } catch (err) {
    throw notAnIndex(id, err);
  }
}

export function parseIndex(json: Buffer, id: string): IndexFile {
  try {
    const parsed = JSON.parse(json.toString('utf8')) as IndexFile;
    if (!Array.isArray(parsed.packs) || !Array.isArray(parsed.supersedes)) throw new Error('missing fields');
    return parsed;
  } catch (err) {
    throw notAnIndex(id, err);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function notAnIndex(id: string, cause: unknown): EngineError {
  return new EngineError('corrupt', `index ${id.slice(0, 12)} is not a valid index`, { cause });
}

/** Throws `corrupt` for packs that no index file may list: one that is not a pack, an entry that is not a blob. The
 *  index refuses to read such a file, and nothing writes one. */
export function checkIndexPacks(packs: IndexedPack[], source: string): void {
  for (const pack of packs) {
    if (!isObject(pack) || typeof pack.id !== 'string' || !PACK_ID.test(pack.id) || !Array.isArray(pack.blobs))
      throw new EngineError('corrupt', `${source} lists a pack that is not one`);
    for (const b of pack.blobs) {
      // Pack number 0 stands for any: the number is the index's own, always in range.
      if (
        !isObject(b) ||
        !TYPE_CODES.has(b.type) ||
        typeof b.id !== 'string' ||
        !isBlobRecord(b.id, 0, b.offset, b.length, b.rawLength)
      )
        throw new EngineError('corrupt', `${source} lists an entry that is not a blob in pack ${pack.id.slice(0, 12)}`);
    }
  }
}

/** Every blob the repository knows, from every index file: a compact table for lookups (blob-table.ts), and, for
 *  the jobs that go through the repository pack by pack (prune, verify), each pack's entries as listed. */
export class MasterIndex {
  private readonly table = new BlobTable();
  private packs: string[] = [];
  private readonly packNumbers = new Map<string, number>();
  /** With keepPackEntries: what the last index file to list each pack says it holds, and every listing. */
  private entries: Map<string, PackEntry[]> | null = null;
  private listings: PackEntry[][] = [];

  get keepsPackEntries(): boolean {
    return this.entries !== null;
  }

  /** From now on each pack's entries are kept (about 200 B a blob); the caller reloads the index. */
  keepPackEntries(): void {
    this.clear();
    this.entries = new Map();
  }

  /** Adds the packs of one index file, all or none: an entry that is not a blob (an id that is not 64 hex digits, a
   *  type, offset or length out of range) makes the whole file `corrupt` (checkIndexPacks). */
  addPacks(packs: IndexedPack[], source: string): void {
    checkIndexPacks(packs, source);
    for (const pack of packs) {
      const number = this.packNumber(pack.id);
      for (const b of pack.blobs)
        this.table.add(b.id, number, TYPE_CODES.get(b.type)!, b.offset, b.length, b.rawLength);
    }
    if (this.entries)
      for (const pack of packs) {
        this.entries.set(pack.id, pack.blobs);
        this.listings.push(pack.blobs);
      }
  }

  /** Adds the packs of one index file given as its JSON (openIndex), all or none, as `addPacks` does; read blob by
   *  blob (index-scan.ts) where the index keeps no pack entries. */
  addIndexJson(json: Buffer, id: string): void {
    const source = `index ${id.slice(0, 12)}`;
    if (!this.entries) {
      const records = this.table.records;
      const packCount = this.packs.length;
      let pack = -1;
      // Refused only once the scan is through: a key given twice, later in the file, sends it to JSON.parse,
      // which takes the last one.
      let problem: string | null = null;
      const scanned = scanIndexJson(json, {
        pack: (packId) => {
          if (problem) return;
          if (PACK_ID.test(packId)) pack = this.packNumber(packId);
          else problem = `${source} lists a pack that is not one`;
        },
        blob: (type, bytes, at, idLength, offset, length, rawLength) => {
          if (problem) return;
          if (
            type < 0 ||
            !this.table.addBytes(bytes, at, idLength, pack, type as BlobTypeCode, offset, length, rawLength)
          )
            problem = `${source} lists an entry that is not a blob in pack ${this.packs[pack].slice(0, 12)}`;
        },
      });
      if (scanned && problem) this.refuse(records, packCount, problem);
      if (scanned) return;
      this.undo(records, packCount);
    }
    this.addPacks(parseIndex(json, id).packs, source);
  }

  clear(): void {
    this.table.clear();
    this.packs = [];
    this.packNumbers.clear();
    this.entries?.clear();
    this.listings = [];
  }

  has(id: string): boolean {
    return this.table.find(id) >= 0;
  }

  get(id: string): BlobLocation | undefined {
    const r = this.table.find(id);
    if (r < 0) return undefined;
    const at = this.table.location(r);
    return {
      pack: this.packs[at.pack],
      type: at.type === 1 ? 'tree' : 'data',
      offset: at.offset,
      length: at.length,
      rawLength: at.rawLength,
    };
  }

  /** Lookups for worker threads: the table as it is now, in shared memory. */
  shareKeys(): BlobKeysView {
    return this.table.share();
  }

  /** Each distinct blob id of every index file (keepPackEntries only). */
  *blobIds(): Generator<string> {
    this.packEntryLists();
    const seen = new Set<string>();
    for (const entries of this.listings)
      for (const b of entries) {
        if (seen.has(b.id)) continue;
        seen.add(b.id);
        yield b.id;
      }
  }

  hasPack(id: string): boolean {
    return this.packNumbers.has(id);
  }

  packIds(): string[] {
    return [...this.packs];
  }

  /** What the index files list in a pack (keepPackEntries only). */
  packEntries(id: string): PackEntry[] | undefined {
    return this.packEntryLists().get(id);
  }

  get blobCount(): number {
    return this.table.distinct();
  }

  private packEntryLists(): Map<string, PackEntry[]> {
    if (!this.entries) throw new Error('the index keeps no pack entries: call keepPackEntries() before loading it');
    return this.entries;
  }

  private refuse(records: number, packCount: number, why: string): never {
    this.undo(records, packCount);
    throw new EngineError('corrupt', why);
  }

  private undo(records: number, packCount: number): void {
    this.table.truncate(records);
    for (const id of this.packs.splice(packCount)) this.packNumbers.delete(id);
  }

  private packNumber(id: string): number {
    let n = this.packNumbers.get(id);
    if (n === undefined) {
      n = this.packs.length;
      this.packs.push(id);
      this.packNumbers.set(id, n);
    }
    return n;
  }
}
