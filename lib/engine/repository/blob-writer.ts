// Saves new blobs into packs: writes each pack atomically and an index for every few packs, so a backup killed at
// any moment loses at most the packs not yet indexed, and the next one adopts and reuses even those.
import { crashPoint } from '../test-hooks';
import { encodeBlob, type BlobType } from './blob-codec';
import type { IndexedPack } from './index-file';
import type { HeldLock } from './lock';
import { MAX_PACK_BLOBS, PACK_TARGET_BYTES, PackBuilder } from './pack';
import type { Repository } from './repository';

/** Packs written between two index files. */
const INDEX_EVERY_PACKS = 4;
/** Packs written at once: each ends in an fsync, and a disk takes several of those faster side by side. */
const CONCURRENT_PACK_WRITES = 3;

export interface WriteStats {
  newBlobs: number;
  newBytes: number;
  packs: number;
}

export class BlobWriter {
  readonly stats: WriteStats = { newBlobs: 0, newBytes: 0, packs: 0 };
  private readonly builders: Record<BlobType, PackBuilder> = { data: new PackBuilder(), tree: new PackBuilder() };
  /** Blobs in packs not yet listed by an index file this writer wrote (from then on the index has them). */
  private readonly pending = new Set<string>();
  private unindexed: IndexedPack[] = [];
  private failure: unknown = null;
  private readonly writing = new Set<Promise<void>>();
  private indexChain: Promise<void> = Promise.resolve();

  /** `lock`: the lock the writing job holds. Nothing is written once it is lost (a prune may have deleted what
   *  this writer wrote before), and an index only after a look that it is still there. */
  constructor(
    private readonly repo: Repository,
    private readonly lock?: HeldLock,
    private readonly options: {
      /** Forget a blob once an index file lists it: `has` finds it in the index from then on (a backup of
       *  millions of new blobs then does not hold every id twice). Not for prune, which moves blobs the index
       *  lists elsewhere and must copy each once. */
      forgetIndexed?: boolean;
    } = {},
  ) {}

  /** True if the repository or this writer has the blob. */
  has(id: string): boolean {
    return this.pending.has(id) || this.repo.index.has(id);
  }

  /** Encodes and saves a blob unless it is there already; true if it was new. */
  async save(type: BlobType, id: string, plaintext: Buffer): Promise<boolean> {
    this.throwIfFailed();
    if (this.has(id)) return false;
    this.pending.add(id);
    const sealed = encodeBlob(this.repo.key.encryption, plaintext);
    if (type === 'tree') this.repo.cacheTree(id, sealed);
    await this.add(type, id, sealed, plaintext.length);
    return true;
  }

  /** Puts an already sealed blob into a pack unless this writer has it in a pack not yet indexed. Backups use it
   *  for blobs sealed by their readers (after `has`); prune uses it to move live blobs out of mostly dead packs (so
   *  the index is not consulted). */
  async copySealed(type: BlobType, id: string, sealed: Buffer, rawLength: number): Promise<void> {
    this.throwIfFailed();
    if (this.pending.has(id)) return;
    this.pending.add(id);
    await this.add(type, id, sealed, rawLength);
  }

  /** Writes every pack still open and the index that lists them. */
  async finish(): Promise<WriteStats> {
    for (const type of ['data', 'tree'] as const) if (this.builders[type].count > 0) await this.writePack(type);
    await Promise.all(this.writing);
    await this.indexChain;
    this.throwIfFailed();
    if (this.unindexed.length > 0) await this.flushIndex();
    this.throwIfFailed();
    return this.stats;
  }

  private async add(type: BlobType, id: string, sealed: Buffer, rawLength: number): Promise<void> {
    const builder = this.builders[type];
    builder.add(type, id, sealed, rawLength);
    this.stats.newBlobs++;
    this.stats.newBytes += sealed.length;
    if (builder.size >= PACK_TARGET_BYTES || builder.count >= MAX_PACK_BLOBS) await this.writePack(type);
    this.throwIfFailed();
  }

  /** Starts writing the open pack of a type, once fewer than CONCURRENT_PACK_WRITES are under way. A pack is
   *  listed for the next index only when it is durable. */
  private async writePack(type: BlobType): Promise<void> {
    const builder = this.builders[type];
    this.builders[type] = new PackBuilder();
    while (this.writing.size >= CONCURRENT_PACK_WRITES) await Promise.race(this.writing);
    const write = (async () => {
      try {
        if (this.failure) return;
        const pack = builder.finish(this.repo.key.encryption);
        this.lock?.assertFresh();
        await this.repo.putNamed('data', pack.bytes);
        crashPoint('pack');
        this.stats.packs++;
        this.unindexed.push({ id: pack.id, blobs: pack.entries });
        if (this.unindexed.length >= INDEX_EVERY_PACKS) {
          this.indexChain = this.indexChain.then(() => this.flushIndex());
          await this.indexChain;
        }
      } catch (err) {
        this.failure ??= err;
      }
    })().finally(() => this.writing.delete(write));
    this.writing.add(write);
  }

  private async flushIndex(): Promise<void> {
    const packs = this.unindexed;
    this.unindexed = [];
    if (packs.length === 0) return;
    try {
      const lock = this.lock;
      if (lock)
        await lock.writeUnder(
          'index-checked',
          () => this.repo.writeIndex(packs, [], lock.name),
          (id) => this.repo.deleteIndexFile(id),
        );
      else await this.repo.writeIndex(packs);
    } catch (err) {
      this.failure ??= err;
      return;
    }
    if (this.options.forgetIndexed) for (const pack of packs) for (const b of pack.blobs) this.pending.delete(b.id);
    crashPoint('index');
  }

  /** Waits for pack writes under way, whatever their outcome: for clean-up after a failure elsewhere. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.writing, this.indexChain]);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
