// Saves new blobs into packs: writes each pack atomically and an index for every few packs, so a backup killed at
// any moment loses at most the packs not yet indexed, and the next one adopts and reuses even those.
import { crashPoint } from '../test-hooks';
import { encodeBlob, type BlobType } from './blob-codec';
import type { IndexedPack } from './index-file';
import { PACK_TARGET_BYTES, PackBuilder } from './pack';
import type { Repository } from './repository';

/** Packs written between two index files. */
const INDEX_EVERY_PACKS = 4;
/** Finished packs waiting to be written before callers are made to wait. */
const MAX_QUEUED_PACKS = 2;

export interface WriteStats {
  newBlobs: number;
  newBytes: number;
  packs: number;
}

export class BlobWriter {
  readonly stats: WriteStats = { newBlobs: 0, newBytes: 0, packs: 0 };
  private readonly builders: Record<BlobType, PackBuilder> = { data: new PackBuilder(), tree: new PackBuilder() };
  private readonly pending = new Set<string>();
  private unindexed: IndexedPack[] = [];
  private failure: unknown = null;
  private packChain: Promise<void> = Promise.resolve();
  private queuedPacks = 0;

  constructor(private readonly repo: Repository) {}

  /** True if the repository or this writer has the blob. */
  has(id: string): boolean {
    return this.pending.has(id) || this.repo.index.has(id);
  }

  /** Encodes and saves a blob unless it is there already; true if it was new. */
  async save(type: BlobType, id: string, plaintext: Buffer): Promise<boolean> {
    this.throwIfFailed();
    if (this.has(id)) return false;
    this.pending.add(id);
    await this.add(type, id, encodeBlob(this.repo.key.encryption, plaintext), plaintext.length);
    return true;
  }

  /** Puts an already sealed blob into a pack unless this writer has it. Backups use it for blobs sealed by their
   *  readers; prune uses it to move live blobs out of mostly dead packs (so the index is not consulted). */
  async copySealed(type: BlobType, id: string, sealed: Buffer, rawLength: number): Promise<void> {
    this.throwIfFailed();
    if (this.pending.has(id)) return;
    this.pending.add(id);
    await this.add(type, id, sealed, rawLength);
  }

  /** Writes every pack still open and the index that lists them. */
  async finish(): Promise<WriteStats> {
    for (const type of ['data', 'tree'] as const) if (this.builders[type].count > 0) this.queuePack(type);
    await this.packChain;
    this.throwIfFailed();
    if (this.unindexed.length > 0) await this.flushIndex();
    return this.stats;
  }

  private async add(type: BlobType, id: string, sealed: Buffer, rawLength: number): Promise<void> {
    const builder = this.builders[type];
    builder.add(type, id, sealed, rawLength);
    this.stats.newBlobs++;
    this.stats.newBytes += sealed.length;
    if (builder.size < PACK_TARGET_BYTES) return;
    const written = this.queuePack(type);
    if (this.queuedPacks > MAX_QUEUED_PACKS) await written;
    this.throwIfFailed();
  }

  /** Pack writes go one after another, so index files list packs in the order they became durable. */
  private queuePack(type: BlobType): Promise<void> {
    const builder = this.builders[type];
    this.builders[type] = new PackBuilder();
    this.queuedPacks++;
    this.packChain = this.packChain.then(async () => {
      try {
        if (this.failure) return;
        const pack = builder.finish(this.repo.key.encryption);
        await this.repo.putNamed('data', pack.bytes);
        crashPoint('pack');
        this.stats.packs++;
        this.unindexed.push({ id: pack.id, blobs: pack.entries });
        if (this.unindexed.length >= INDEX_EVERY_PACKS) await this.flushIndex();
      } catch (err) {
        this.failure ??= err;
      } finally {
        this.queuedPacks--;
      }
    });
    return this.packChain;
  }

  private async flushIndex(): Promise<void> {
    const packs = this.unindexed;
    this.unindexed = [];
    await this.repo.writeIndex(packs);
    crashPoint('index');
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
