// Index files map each blob to its pack, offset and length; the in-memory index merges all of them.
import { compress, decompress } from 'zstd-napi';

import { EngineError } from '../errors';
import type { BlobType } from './blob-codec';
import { open, seal } from './crypto';
import type { PackEntry } from './pack';

const INDEX_CONTEXT = 'lifeline index';

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
  const plain = open(encryptionKey, sealed, INDEX_CONTEXT, `index ${id.slice(0, 12)}`);
  try {
    const parsed = JSON.parse(decompress(plain).toString('utf8')) as IndexFile;
    if (!Array.isArray(parsed.packs) || !Array.isArray(parsed.supersedes)) throw new Error('missing fields');
    return parsed;
  } catch (err) {
    throw new EngineError('corrupt', `index ${id.slice(0, 12)} is not a valid index`, { cause: err });
  }
}

/** Every blob the repository knows, from every index file. */
export class MasterIndex {
  private readonly blobs = new Map<string, BlobLocation>();
  private readonly packs = new Map<string, PackEntry[]>();

  addPack(pack: IndexedPack): void {
    this.packs.set(pack.id, pack.blobs);
    for (const b of pack.blobs) {
      if (!this.blobs.has(b.id))
        this.blobs.set(b.id, {
          pack: pack.id,
          type: b.type,
          offset: b.offset,
          length: b.length,
          rawLength: b.rawLength,
        });
    }
  }

  /** Forgets a pack; blobs it held that another pack also holds stay findable there. */
  removePack(packId: string): void {
    const entries = this.packs.get(packId);
    if (!entries) return;
    this.packs.delete(packId);
    const gone = new Set(entries.map((e) => e.id));
    for (const id of gone) if (this.blobs.get(id)?.pack === packId) this.blobs.delete(id);
    for (const [pid, blobs] of this.packs) {
      for (const b of blobs) {
        if (gone.has(b.id) && !this.blobs.has(b.id))
          this.blobs.set(b.id, { pack: pid, type: b.type, offset: b.offset, length: b.length, rawLength: b.rawLength });
      }
    }
  }

  clear(): void {
    this.blobs.clear();
    this.packs.clear();
  }

  has(id: string): boolean {
    return this.blobs.has(id);
  }

  get(id: string): BlobLocation | undefined {
    return this.blobs.get(id);
  }

  blobIds(): IterableIterator<string> {
    return this.blobs.keys();
  }

  hasPack(id: string): boolean {
    return this.packs.has(id);
  }

  packIds(): string[] {
    return [...this.packs.keys()];
  }

  packEntries(id: string): PackEntry[] | undefined {
    return this.packs.get(id);
  }

  get blobCount(): number {
    return this.blobs.size;
  }
}
