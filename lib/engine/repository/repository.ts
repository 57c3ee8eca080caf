// An opened repository: its config and master key, the merged index, and reads and writes of sealed objects.
import { createHash } from 'node:crypto';

import { EngineError, isEngineError } from '../errors';
import { decodeBlob } from './blob-codec';
import { Chunker, DEFAULT_CHUNKER, gearTable, validateChunkerParams, type ChunkerParams } from './chunker';
import { checkConfigMac, createConfig, KNOWN_FEATURES, parseConfig, signConfig, type RepositoryConfig } from './config';
import { blobId, generateMasterKey, open, seal, newKeyKdf, type KdfParams, type MasterKey } from './crypto';
import { checkIndexPacks, encodeIndex, MasterIndex, openIndex, type IndexedPack } from './index-file';
import { repositoryCacheDir } from '../cache-dir';
import { boundHeapRetention } from '../memory-policy';
import { testIndexPartBlobs } from '../test-hooks';
import { readKeyHint, writeKeyHint } from './key-hint';
import { MetadataCache } from './metadata-cache';
import { openWithPassphrase, writeKeyFile } from './keys';
import { acquireLock, type HeldLock, type LockOptions } from './lock';
import { fetchPackHeader } from './pack';
import type { ReaderKeys } from '../backup/read-file';
import type { Snapshot, SnapshotRecord } from './snapshot';
import type { ObjectLock, Storage } from './storage';
import { decodeTree, type Tree } from './tree';

const SNAPSHOT_CONTEXT = 'lifeline snapshot';
const PACK_CACHE_SIZE = 4;
/** Decoded trees kept, counted in entries (a tree of a directory of 100,000 files is one tree). */
const TREE_CACHE_NODES = 100_000;

export interface OpenOptions {
  /** The node this process writes for, through the control plane's storage API: recorded in its locks. */
  lockOwner?: string;
  /** Lifeline's cache directory on this machine: the key file that opened the repository last is tried first, and
   *  index files and snapshots are kept there (metadata-cache.ts). */
  cacheDir?: string | null;
  /** False to read index files and snapshots from the repository only: for checks of its health (verify, repair,
   *  prune), which must see each object as stored. */
  cacheMetadata?: boolean;
}

export interface InitOptions {
  chunker?: ChunkerParams;
  /** Key-derivation cost; tests use a cheaper one, the CLI always the strong default. */
  kdf?: KdfParams;
  /** Keep every object for this long after it is written (S3 object lock, as the bucket's default retention). */
  objectLock?: ObjectLock;
}

/** Blobs in one index file written by prune or repair (about 12 MB of JSON before compression). */
export const INDEX_PART_BLOBS = 100_000;

export class Repository {
  readonly index = new MasterIndex();
  /** Index files and snapshots that cannot be read (they do not hash to their names, do not open with the key, or
   *  do not parse), by object name, with why. They are left out: one damaged object stops nothing else. Jobs name
   *  them; prune refuses to run until `repair` has dealt with them. */
  readonly damaged = new Map<string, string>();
  /** Key files tried before one opened with the passphrase (each costs a key derivation); 0 for a new repository. */
  keysTried = 0;
  private readonly loadedIndexFiles = new Set<string>();
  private readonly gear: Int32Array;
  private readonly treeCache = new Map<string, Tree>();
  private treeCacheNodes = 0;
  private readonly packCache = new Map<string, Promise<Buffer>>();
  private readonly cache: MetadataCache | null;

  private constructor(
    readonly storage: Storage,
    private currentConfig: RepositoryConfig,
    readonly key: MasterKey,
    readonly keyId: string,
    private readonly options: OpenOptions = {},
  ) {
    this.gear = gearTable(key.chunker);
    const dir =
      options.cacheDir && options.cacheMetadata !== false && repositoryCacheDir(options.cacheDir, currentConfig.id);
    this.cache = dir ? new MetadataCache(dir) : null;
  }

  static async init(
    storage: Storage & { createLayout?: () => Promise<void> },
    passphrase: string,
    options: InitOptions = {},
  ): Promise<Repository> {
    boundHeapRetention();
    if (await storage.exists('config'))
      throw new EngineError('repository-exists', `a repository already exists at ${storage.location}`);
    const chunker = options.chunker ?? DEFAULT_CHUNKER;
    const problem = validateChunkerParams(chunker);
    if (problem) throw new EngineError('invalid-argument', problem);
    if (options.objectLock) {
      // Before anything is written: every object of the repository is then retained.
      if (!isLockable(storage))
        throw new EngineError(
          'invalid-argument',
          `object lock needs a repository in an S3 bucket, not ${storage.location}`,
        );
      await storage.enableObjectLock(options.objectLock);
    } else await storage.createLayout?.();
    const master = generateMasterKey();
    const config = createConfig(master, chunker);
    // The key file goes first: a config without a key would be a repository nobody can open.
    const keyId = await writeKeyFile(storage, master, passphrase, options.kdf ?? newKeyKdf());
    await storage.put('config', Buffer.from(JSON.stringify(config, null, 2)), { exclusive: true });
    return new Repository(storage, config, master, keyId);
  }

  static async open(storage: Storage, passphrase: string, options: OpenOptions = {}): Promise<Repository> {
    // Every job opens a repository: its large short-lived buffers (index files, packs) go back to the system.
    boundHeapRetention();
    let raw: Buffer;
    try {
      raw = await storage.get('config');
    } catch (err) {
      if (isEngineError(err, 'not-found'))
        throw new EngineError(
          'no-repository',
          `there is no repository at ${storage.location} (create one with: lifeline init)`,
        );
      throw err;
    }
    const config = parseConfig(raw, storage.location);
    const hint = options.cacheDir ? readKeyHint(options.cacheDir, config.id) : null;
    const { master, keyId, tried } = await openWithPassphrase(storage, passphrase, hint);
    checkConfigMac(master, config);
    if (options.cacheDir && keyId !== hint) await writeKeyHint(options.cacheDir, config.id, keyId);
    const repo = new Repository(storage, config, master, keyId, options);
    repo.keysTried = tried;
    return repo;
  }

  get config(): RepositoryConfig {
    return this.currentConfig;
  }

  /** Lists `feature` (one this code knows) in the config, before the first object that uses it is written: a
   *  reader that does not know it then refuses the repository instead of misreading it. Fails where the config
   *  may not be written (a node's append-only access). */
  async enableFeature(feature: string): Promise<void> {
    if (!KNOWN_FEATURES.includes(feature)) throw new EngineError('invalid-argument', `no such feature: ${feature}`);
    if (this.config.features?.includes(feature)) return;
    const { mac: _, ...unsigned } = this.config;
    const next = signConfig(this.key, { ...unsigned, features: [...(unsigned.features ?? []), feature].sort() });
    await this.storage.put('config', Buffer.from(JSON.stringify(next, null, 2)));
    this.currentConfig = next;
  }

  lock(options: LockOptions): Promise<HeldLock> {
    return acquireLock(this.storage, this.key.encryption, { owner: this.options.lockOwner, ...options });
  }

  newChunker(): Chunker {
    return new Chunker(this.gear, this.config.chunker);
  }

  /** What a file reader needs to chunk, hash and seal on its own, in this thread or another. */
  readerKeys(): ReaderKeys {
    return { encryption: this.key.encryption, id: this.key.id, gear: this.gear, chunker: this.config.chunker };
  }

  blobId(plaintext: Uint8Array): string {
    return blobId(this.key.id, plaintext);
  }

  /** Loads index files written since the last call (by this process or another). If one it loaded is gone, a
   *  prune has replaced it (and maybe deleted packs it named): everything is read afresh, so a long-lived process
   *  (an agent) never counts on a blob that is no longer stored. */
  async loadIndex(): Promise<void> {
    const listed = await this.storage.list('index');
    const present = new Set(listed.map((o) => o.name));
    // Index files gone since the last job here mean a prune ran: cached trees it removed are removed here too.
    const pruned = (this.cache?.keepOnly('index', present) ?? 0) > 0;
    const replaced = [...this.loadedIndexFiles].some((name) => !present.has(name));
    if (replaced) {
      this.index.clear();
      this.loadedIndexFiles.clear();
    }
    for (const key of this.damaged.keys()) if (key.startsWith('index/')) this.damaged.delete(key);
    for (const { name } of listed) {
      if (this.loadedIndexFiles.has(name)) continue;
      try {
        this.index.addIndexJson(openIndex(this.key.encryption, await this.readCached('index', name), name), name);
      } catch (err) {
        // Superseded by a prune that is deleting it right now.
        if (isEngineError(err, 'not-found')) continue;
        if (!isEngineError(err, 'corrupt')) throw err;
        this.damaged.set(`index/${name}`, err.message);
        continue;
      }
      this.loadedIndexFiles.add(name);
    }
    if (pruned || replaced) this.cache?.keepTrees((id) => this.index.has(id));
  }

  /** Keeps each pack's entries as the index files list them, for the jobs that go through the repository pack by
   *  pack (prune, verify); the index is read afresh at the next loadIndex. */
  keepPackEntries(): void {
    if (this.index.keepsPackEntries) return;
    this.index.keepPackEntries();
    this.loadedIndexFiles.clear();
  }

  /** Drops everything known and reads the index files as they are now (after another process changed them). */
  async reloadIndex(): Promise<void> {
    this.index.clear();
    this.loadedIndexFiles.clear();
    await this.loadIndex();
  }

  indexFileIds(): string[] {
    return [...this.loadedIndexFiles];
  }

  /** Writes an index that replaces others (prune, repair) as index files of at most `partBlobs` blobs each, each
   *  through `write` (under the caller's lock): one file for millions of blobs would pass V8's limit on a string's
   *  length (2^29 characters, near 3.6 M blobs). Only the last part names `supersedes`: the files it replaces may go
   *  once every part is written; a crash between parts leaves them all, and the union is still whole. */
  async writeIndexInParts(
    packs: IndexedPack[],
    supersedes: string[],
    write: (part: IndexedPack[], supersedes: string[]) => Promise<string>,
  ): Promise<string[]> {
    const partBlobs = testIndexPartBlobs() ?? INDEX_PART_BLOBS;
    const parts: IndexedPack[][] = [[]];
    let blobs = 0;
    for (const pack of packs) {
      if (blobs > 0 && blobs + pack.blobs.length > partBlobs) {
        parts.push([]);
        blobs = 0;
      }
      parts.at(-1)!.push(pack);
      blobs += pack.blobs.length;
    }
    const written: string[] = [];
    for (const [i, part] of parts.entries()) written.push(await write(part, i === parts.length - 1 ? supersedes : []));
    return written;
  }

  /** `underLock`: the lock the writer holds (Storage.put). */
  async writeIndex(packs: IndexedPack[], supersedes: string[] = [], underLock?: string): Promise<string> {
    // Nothing the index would refuse to read is written.
    checkIndexPacks(packs, 'the index about to be written');
    const id = await this.putNamed('index', encodeIndex(this.key.encryption, { supersedes, packs }), { underLock });
    this.index.addPacks(packs, `index ${id.slice(0, 12)}`);
    this.loadedIndexFiles.add(id);
    return id;
  }

  /** Removes an index file this process wrote (one that landed after its lock was lost). The packs it listed stay
   *  in this process's index: the job that wrote it fails and drops the repository. */
  async deleteIndexFile(id: string): Promise<void> {
    await this.storage.delete(`index/${id}`);
    this.loadedIndexFiles.delete(id);
  }

  forgetIndexFile(id: string): void {
    this.loadedIndexFiles.delete(id);
  }

  /** Reads a pack's header from storage; the way to rebuild the index from packs alone. */
  async readPackHeader(packId: string, packSize: number): Promise<IndexedPack> {
    return { id: packId, blobs: await fetchPackHeader(this.storage, this.key.encryption, packId, packSize) };
  }

  async readBlob(id: string): Promise<Buffer> {
    return decodeBlob(this.key, await this.readSealed(id), id);
  }

  /** A blob as stored: sealed, from its pack. */
  private async readSealed(id: string): Promise<Buffer> {
    const at = this.index.get(id);
    if (!at) throw new EngineError('corrupt', `blob ${id.slice(0, 12)} is referenced but not in the index`);
    const pack = await this.loadPack(at.pack);
    if (at.offset + at.length > pack.length)
      throw new EngineError('corrupt', `pack ${at.pack.slice(0, 12)} is shorter than its index says`);
    return pack.subarray(at.offset, at.offset + at.length);
  }

  /** Keeps a tree this process sealed for the next job on this machine (the next backup's parent); it is read from
   *  the cache only once the index lists it, so one whose pack never got written is never used. */
  cacheTree(id: string, sealed: Buffer): void {
    this.cache?.putTree(id, sealed);
  }

  /** A tree blob's plaintext: from the cache while the index has the blob and the copy opens and matches its id,
   *  else from its pack (and then cached). */
  private async readTreeBlob(id: string): Promise<Buffer> {
    const cached = this.cache && this.index.has(id) ? await this.cache.getTree(id) : null;
    if (cached) {
      try {
        return decodeBlob(this.key, cached, id);
      } catch {
        this.cache!.dropTree(id);
      }
    }
    const sealed = await this.readSealed(id);
    const plain = decodeBlob(this.key, sealed, id);
    this.cache?.putTree(id, Buffer.from(sealed));
    return plain;
  }

  /** Whole packs, the few most recently used kept: restores and tree walks read neighbouring blobs of one pack
   *  in a row, and one read of 16 MiB beats hundreds of small ones. */
  private loadPack(id: string): Promise<Buffer> {
    let pack = this.packCache.get(id);
    if (pack) this.packCache.delete(id);
    else {
      pack = this.storage.get(`data/${id}`);
      pack.catch(() => this.packCache.delete(id));
    }
    this.packCache.set(id, pack);
    if (this.packCache.size > PACK_CACHE_SIZE) this.packCache.delete(this.packCache.keys().next().value!);
    return pack;
  }

  async readTree(id: string): Promise<Tree> {
    const cached = this.treeCache.get(id);
    if (cached) return cached;
    const bytes = await this.readTreeBlob(id);
    let tree: Tree;
    try {
      tree = decodeTree(bytes);
    } catch (err) {
      throw new EngineError('corrupt', `tree ${id.slice(0, 12)} is not a valid tree: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (this.treeCacheNodes + tree.nodes.length > TREE_CACHE_NODES) {
      this.treeCache.clear();
      this.treeCacheNodes = 0;
    }
    if (tree.nodes.length <= TREE_CACHE_NODES) {
      this.treeCache.set(id, tree);
      this.treeCacheNodes += tree.nodes.length;
    }
    return tree;
  }

  async saveSnapshot(snapshot: Snapshot, underLock?: string): Promise<string> {
    return this.putNamed(
      'snapshots',
      seal(this.key.encryption, Buffer.from(JSON.stringify(snapshot)), SNAPSHOT_CONTEXT),
      { underLock },
    );
  }

  /** `listed`: the name comes from a listing made just now, so a cached copy may stand for it; otherwise a cached
   *  copy is used only once the repository says it still holds the snapshot. */
  async readSnapshot(id: string, listed = false): Promise<SnapshotRecord> {
    const cached = this.cache?.get('snapshots', id);
    if (cached && !listed && !(await this.storage.exists(`snapshots/${id}`)))
      throw new EngineError('not-found', `object snapshots/${id} is missing from the repository`);
    return this.decodeSnapshot(id, cached ?? (await this.readCached('snapshots', id)));
  }

  /** Opens a sealed snapshot manifest (fails with `corrupt` if it was not sealed with this repository's key). */
  decodeSnapshot(id: string, sealed: Buffer): SnapshotRecord {
    const plain = open(this.key.encryption, sealed, SNAPSHOT_CONTEXT, `snapshot ${id.slice(0, 8)}`);
    let snapshot: Snapshot;
    try {
      snapshot = JSON.parse(plain.toString('utf8')) as Snapshot;
    } catch {
      throw new EngineError('corrupt', `snapshot ${id.slice(0, 8)} is not a snapshot manifest`);
    }
    if (typeof snapshot?.tree !== 'string' || typeof snapshot.time !== 'string' || !Array.isArray(snapshot.paths))
      throw new EngineError('corrupt', `snapshot ${id.slice(0, 8)} lacks its tree, time or paths`);
    return { id, ...snapshot };
  }

  /** Every snapshot that can be read, oldest first; the others are in `damaged`. */
  async listSnapshots(): Promise<SnapshotRecord[]> {
    const out: SnapshotRecord[] = [];
    for (const key of this.damaged.keys()) if (key.startsWith('snapshots/')) this.damaged.delete(key);
    const listed = await this.storage.list('snapshots');
    this.cache?.keepOnly('snapshots', new Set(listed.map((o) => o.name)));
    for (const { name } of listed) {
      try {
        out.push(await this.readSnapshot(name, true));
      } catch (err) {
        if (isEngineError(err, 'not-found')) continue;
        if (!isEngineError(err, 'corrupt')) throw err;
        this.damaged.set(`snapshots/${name}`, err.message);
      }
    }
    return out.sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id));
  }

  /** `latest` (optionally of one source), a full id, or a unique prefix of at least 4 hex digits. */
  async resolveSnapshot(ref: string, filter: { source?: string } = {}): Promise<SnapshotRecord> {
    const all = (await this.listSnapshots()).filter((s) => !filter.source || s.source === filter.source);
    if (ref === 'latest') {
      const latest = all.at(-1);
      if (!latest)
        throw new EngineError(
          'not-found',
          filter.source ? `no snapshot of ${filter.source}` : 'the repository has no snapshots',
        );
      return latest;
    }
    if (!/^[0-9a-f]{4,64}$/.test(ref))
      throw new EngineError(
        'invalid-argument',
        `"${ref}" is not a snapshot id: give "latest" or at least 4 hex digits`,
      );
    const matches = all.filter((s) => s.id.startsWith(ref));
    if (matches.length === 0) throw new EngineError('not-found', `no snapshot with id ${ref}`);
    if (matches.length > 1)
      throw new EngineError('invalid-argument', `snapshot id prefix ${ref} is ambiguous: give more digits`);
    return matches[0];
  }

  /** An index file or snapshot: from the cache if it has it, else read from the repository (and checked). */
  private async readCached(kind: 'index' | 'snapshots', id: string): Promise<Buffer> {
    const hit = this.cache?.get(kind, id);
    if (hit) return hit;
    const bytes = await this.readNamed(`${kind}/${id}`);
    this.cache?.put(kind, id, bytes);
    return bytes;
  }

  /** Reads an object stored under the SHA-256 of its bytes and checks that it still matches its name. */
  async readNamed(name: string): Promise<Buffer> {
    const bytes = await this.storage.get(name);
    const id = name.slice(name.indexOf('/') + 1);
    if (createHash('sha256').update(bytes).digest('hex') !== id)
      throw new EngineError(
        'corrupt',
        `${name.slice(0, name.indexOf('/') + 13)} does not match its name: it is damaged`,
      );
    return bytes;
  }

  async putNamed(
    kind: 'index' | 'snapshots' | 'data',
    bytes: Buffer,
    options: { underLock?: string } = {},
  ): Promise<string> {
    const id = createHash('sha256').update(bytes).digest('hex');
    await this.storage.put(`${kind}/${id}`, bytes, options);
    if (kind !== 'data') this.cache?.put(kind, id, bytes);
    return id;
  }
}

export type { KdfParams };

function isLockable(storage: Storage): storage is Storage & { enableObjectLock(lock: ObjectLock): Promise<void> } {
  return typeof (storage as { enableObjectLock?: unknown }).enableObjectLock === 'function';
}
