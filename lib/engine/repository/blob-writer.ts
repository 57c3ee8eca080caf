// Saves new blobs: encodes them (compress, seal) off the caller's path, gathers them into packs, writes each
// pack atomically and an index for every few packs, so a backup killed at any moment loses at most the packs
// not yet indexed and the next one reuses the rest.
import { crashPoint } from '../test-hooks';
import type { BlobType } from './blob-codec';
import type { Encoder } from './encoder';
import type { IndexedPack } from './index-file';
import { PACK_TARGET_BYTES, PackBuilder } from './pack';
import type { Repository } from './repository';

/** Packs written between two index files. */
const INDEX_EVERY_PACKS = 4;
/** Plaintext bytes handed to the encoder and not yet in a pack. */
const MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;

export interface WriteStats {
  newBlobs: number;
  newBytes: number;
  packs: number;
}

export class BlobWriter {
  readonly stats: WriteStats = { newBlobs: 0, newBytes: 0, packs: 0 };
  private readonly builders: Record<BlobType, PackBuilder> = { data: new PackBuilder(), tree: new PackBuilder() };
  private readonly pending = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private inflightBytes = 0;
  private unindexed: IndexedPack[] = [];
  private failure: unknown = null;
  private packChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: Repository,
    private readonly encoder: Encoder,
  ) {}

  has(id: string): boolean {
    return this.pending.has(id) || this.repo.index.has(id);
  }

  /** Queues a blob unless the repository or this writer has it already; true if it was new. */
  async save(type: BlobType, id: string, plaintext: Buffer): Promise<boolean> {
    this.throwIfFailed();
    if (this.has(id)) return false;
    this.pending.add(id);
    while (this.inflightBytes > MAX_INFLIGHT_BYTES && this.inflight.size > 0) await Promise.race(this.inflight);
    this.throwIfFailed();
    const size = plaintext.length;
    this.inflightBytes += size;
    const job = this.encoder
      .encode(plaintext)
      .then((sealed) => this.add(type, id, sealed))
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.inflightBytes -= size;
        this.inflight.delete(job);
      });
    this.inflight.add(job);
    return true;
  }

  /** Puts an already sealed blob (checked by the caller) into a new pack, even if another pack holds it: how
   *  prune moves the live blobs out of mostly dead packs. */
  async copySealed(type: BlobType, id: string, sealed: Buffer): Promise<void> {
    this.throwIfFailed();
    if (this.pending.has(id)) return;
    this.pending.add(id);
    await this.add(type, id, sealed);
    this.throwIfFailed();
  }

  /** Writes every pack still open and the index that lists them. */
  async finish(): Promise<WriteStats> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
    this.throwIfFailed();
    for (const type of ['data', 'tree'] as const) if (this.builders[type].count > 0) this.queuePack(type);
    await this.packChain;
    this.throwIfFailed();
    if (this.unindexed.length > 0) await this.flushIndex();
    return this.stats;
  }

  private add(type: BlobType, id: string, sealed: Buffer): Promise<void> {
    const builder = this.builders[type];
    builder.add(type, id, sealed);
    this.stats.newBlobs++;
    this.stats.newBytes += sealed.length;
    if (builder.size < PACK_TARGET_BYTES) return Promise.resolve();
    return this.queuePack(type);
  }

  /** Pack writes go one after another, so index files list packs in the order they became durable. */
  private queuePack(type: BlobType): Promise<void> {
    const builder = this.builders[type];
    this.builders[type] = new PackBuilder();
    this.packChain = this.packChain.then(async () => {
      if (this.failure) return;
      try {
        const pack = builder.finish(this.repo.key.encryption);
        await this.repo.putNamed('data', pack.bytes);
        crashPoint('pack');
        this.stats.packs++;
        this.unindexed.push({ id: pack.id, blobs: pack.entries });
        if (this.unindexed.length >= INDEX_EVERY_PACKS) await this.flushIndex();
      } catch (err) {
        this.failure ??= err;
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
