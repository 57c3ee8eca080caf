// A backup: scan the sources, save new file content and one tree per directory, then the snapshot.
// Files unchanged since the parent snapshot (size, mtime, inode) are not read again.
import { randomBytes } from 'node:crypto';
import { readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { decodeBytes, displayPath, fsPath, hasRawBytes } from '../byte-names';
import { EngineError, isEngineError, throwIfAborted } from '../errors';
import { ProgressMeter, type EventSink } from '../progress';
import { BlobWriter } from '../repository/blob-writer';
import type { Repository } from '../repository/repository';
import { sourceKey, type Snapshot, type SnapshotRecord } from '../repository/snapshot';
import {
  BYTE_NAMES_FEATURE,
  encodeTree,
  needsByteNames,
  XATTRS_FEATURE,
  type Tree,
  type TreeNode,
} from '../repository/tree';
import { crashPoint } from '../test-hooks';
import { defaultCacheDir } from '../cache-dir';
import { openStaging, type Staging } from './staging';
import { compileExcludes } from '../sources/exclude';
import { atSqlitePath, copySqliteConsistently, copySqliteOnThread } from '../sources/sqlite-file';
import { listDirectory, scanSources, type FsEntry, type ScanResult } from '../sources/walk';
import { adoptOrphanPacks } from './adopt-orphan-packs';
import { InlineFileReader, WorkerFileReader, type FileReader } from './file-readers';
import { BLOB_BATCH_BYTES, READER_WINDOW_BYTES, type FileResult, type NewBlob } from './read-file';
import { readXattrs, type Xattr, xattrsUnavailable } from '../xattrs';

/** How long a backup waits for a prune's short exclusive window to pass. */
const LOCK_WAIT_MS = 10 * 60_000;

export interface BackupOptions {
  paths: string[];
  /** Database files copied through SQLite's backup API (databases found under `paths` are too). */
  sqlite?: string[];
  exclude?: string[];
  tags?: string[];
  /** The node and source name that make the snapshot's stable source key. */
  node?: string;
  sourceName?: string;
  /** A snapshot id to compare against, or null to read every file; by default the source's latest. */
  parent?: string | null;
  signal?: AbortSignal;
  onEvent?: EventSink;
  /** A scan started with scanForBackup over the same options, to overlap it with opening the repository. */
  scan?: Promise<ScanResult>;
  /** How long to wait for a conflicting lock (a prune's sweep) before giving up; 10 minutes by default. */
  lockWaitMs?: number;
  /** The compiled backup-worker script: files are then read on one worker thread per core, else inline. */
  workerScript?: string;
  /** The compiled count-worker script: the count for the progress totals then walks on a thread of its own. */
  countWorkerScript?: string;
  /** The compiled sqlite-copy-worker script: each live database is then copied on a thread of its own. */
  sqliteWorkerScript?: string;
  /** Work that must give way to everything else on the machine (an agent's ships, beside the service and its
   *  replication): the worker threads run at the lowest CPU priority. */
  background?: boolean;
  /** The files are not written while they are read (a replication base): a SQLite database among them is read as
   *  it is, not copied consistently first. */
  stillFiles?: boolean;
  /** Lifeline's directory on this machine for copies made before reading (staging.ts); by default the user's
   *  cache directory. */
  cacheDir?: string;
  /** Compare files with the previous snapshot by size, mtime and inode only, not by ctime: for file systems whose
   *  ctime changes without the content (some network and FUSE file systems). */
  ignoreCtime?: boolean;
}

export interface BackupResult {
  id: string;
  snapshot: Snapshot;
}

/** Walks what a backup will save; may start before the repository is open (see BackupOptions.scan). */
export async function scanForBackup(
  options: Pick<BackupOptions, 'paths' | 'sqlite' | 'exclude' | 'onEvent' | 'signal' | 'countWorkerScript'>,
): Promise<ScanResult> {
  const paths = options.paths.map((p) => path.resolve(p));
  const sqlite = (options.sqlite ?? []).map((p) => path.resolve(p));
  if (paths.length + sqlite.length === 0)
    throw new EngineError('invalid-argument', 'name at least one path or SQLite database to back up');
  return scanSources(
    paths,
    sqlite,
    compileExcludes(options.exclude ?? []),
    new ProgressMeter('backup', options.onEvent),
    options.signal,
    options.countWorkerScript
      ? { script: options.countWorkerScript, excludePatterns: options.exclude ?? [] }
      : undefined,
  );
}

export async function runBackup(repo: Repository, options: BackupOptions): Promise<BackupResult> {
  const paths = options.paths.map((p) => path.resolve(p));
  const sqlite = (options.sqlite ?? []).map((p) => path.resolve(p));
  // The scan needs no key: it runs while the lock is taken and the index is read (or, given by the caller,
  // while the passphrase is still being checked).
  const scanning = quiet(options.scan ?? scanForBackup(options));
  const startedAt = new Date();
  const meter = new ProgressMeter('backup', options.onEvent);
  const lock = await repo.lock({
    exclusive: false,
    operation: 'backup',
    waitMs: options.lockWaitMs ?? LOCK_WAIT_MS,
    signal: options.signal,
    onIgnored: (name, why) => meter.warn(`locks/${name}`, `a lock file was passed over: ${why}`),
  });
  let reader: FileReader | null = null;
  let saver: TreeSaver | null = null;
  // Opened on the first copy a backup needs (a live database): a backup of plain files needs no cache directory.
  let staging: Staging | null = null;
  const scratch = () => {
    staging ??= openStaging(options.cacheDir ?? defaultCacheDir());
    return staging.dir;
  };
  try {
    await repo.loadIndex();
    await adoptOrphanPacks(repo, lock);
    const source = sourceKey(options.node ?? os.hostname(), options.sourceName ?? [...paths, ...sqlite].join(','));
    const parent = await findParent(repo, source, options.parent);
    // A damaged index file or snapshot stops nothing: the backup names it and goes on (what only a damaged index
    // listed is stored again, or adopted from its pack's header).
    for (const [name, why] of repo.damaged)
      meter.warn(name, `cannot be read, left out (run verify, then repair): ${why}`);
    // Workers start up while the scan runs.
    const setup = { keys: repo.readerKeys(), known: repo.index.shareKeys() };
    reader = options.workerScript
      ? new WorkerFileReader(setup, options.workerScript, undefined, options.background)
      : new InlineFileReader(setup);
    const scan = await scanning;
    meter.phase('save');
    // A lost lock stops the backup at once: what it would still write may already be pruned.
    const signal = options.signal ? AbortSignal.any([options.signal, lock.lost]) : lock.lost;
    const ctime = await withFeature(repo, 'ctime', meter);
    let byteNames: Promise<boolean> | undefined;
    let xattrs: Promise<boolean> | undefined;
    // Said once, and kept with the snapshot: its entries lack what they may have had.
    const noXattrs = xattrsUnavailable();
    const setupWarnings = noXattrs ? [`extended attributes and ACLs were not backed up: ${noXattrs}`] : [];
    for (const w of setupWarnings) meter.warn('xattrs', w);
    saver = new TreeSaver(
      repo,
      new BlobWriter(repo, lock, { forgetIndexed: true }),
      reader,
      meter,
      scan,
      scratch,
      signal,
      {
        ctime: { record: ctime, compare: ctime && !options.ignoreCtime },
        // Listed in the config only once a name or link target needs it.
        byteNames: () => {
          byteNames ??= withFeature(repo, BYTE_NAMES_FEATURE, meter);
          return byteNames;
        },
        // Likewise, once an entry has extended attributes.
        xattrs: noXattrs
          ? null
          : () => {
              xattrs ??= withFeature(repo, XATTRS_FEATURE, meter);
              return xattrs;
            },
      },
      options.sqliteWorkerScript,
      options.background === true,
      options.stillFiles !== true,
    );
    const rootNode = await (await saver.walkDir(scan.root, parent ? readPrevious(repo, parent.tree) : null)).node;
    const written = await saver.writer.finish();
    meter.tick(true);
    const endedAt = new Date();
    const snapshot: Snapshot = {
      time: startedAt.toISOString(),
      host: os.hostname(),
      source,
      paths: [...paths, ...sqlite],
      tags: options.tags ?? [],
      parent: parent?.id,
      tree: rootNode.subtree!,
      summary: {
        files: saver.files,
        dirs: saver.dirs,
        bytes: saver.bytes,
        filesRead: saver.filesRead,
        newBlobs: written.newBlobs,
        newBytes: written.newBytes,
        skipped: setupWarnings.length + scan.warnings.length + saver.warnings.length,
        startedAt: startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
        durationMs: endedAt.getTime() - startedAt.getTime(),
      },
      warnings: [...setupWarnings, ...scan.warnings, ...saver.warnings],
    };
    // A lock lost meanwhile (judged stale, removed by hand) means a prune may have removed data this snapshot
    // counts on: better no snapshot than a broken one.
    const id = await lock.writeUnder(
      'snapshot-checked',
      () => repo.saveSnapshot(snapshot, lock.name),
      (written) => repo.storage.delete(`snapshots/${written}`),
    );
    crashPoint('snapshot');
    return { id, snapshot };
  } catch (err) {
    await saver?.settle();
    throw err;
  } finally {
    scanning.then(
      (scan) => scan.stopCounting(),
      () => undefined,
    );
    (staging as Staging | null)?.remove();
    await reader?.close();
    await lock.release();
  }
}

async function findParent(
  repo: Repository,
  source: string,
  wanted: string | null | undefined,
): Promise<SnapshotRecord | null> {
  if (wanted === null) return null;
  if (wanted) return repo.resolveSnapshot(wanted);
  const mine = (await repo.listSnapshots()).filter((s) => s.source === source);
  return mine.at(-1) ?? null;
}

const NO_XATTRS = `saved without its extended attributes: the repository does not list the ${XATTRS_FEATURE} feature that stores them`;
const NO_BYTE_NAMED_XATTRS = `saved without those of its extended attributes whose names are not UTF-8: the repository does not list the ${BYTE_NAMES_FEATURE} feature that stores them`;
const NO_BYTE_NAMES = `its name or link target is not UTF-8, and the repository does not list the ${BYTE_NAMES_FEATURE} feature that stores it: skipped`;

/** Entries walked between two turns of the event loop. */
const WALK_TURN_ENTRIES = 1000;
/** Files read but not yet saved at once: bounds memory while keeping every worker busy. */
const MAX_FILES_IN_FLIGHT = 128;
const MAX_BYTES_IN_FLIGHT = 128 * 1024 * 1024;
/** The most a file being read holds at once, however large: a batch being made, and those handed on not yet
 *  stored. */
const FILE_BYTES_HELD = BLOB_BATCH_BYTES + READER_WINDOW_BYTES;

class TreeSaver {
  files = 0;
  dirs = 0;
  bytes = 0;
  filesRead = 0;
  readonly warnings: string[] = [];
  private inFlight = 0;
  private failure: { error: unknown } | null = null;
  private sinceTurn = 0;
  private readonly reads = new Set<Promise<unknown>>();
  private bytesInFlight = 0;
  private readonly slotFreed: (() => void)[] = [];

  constructor(
    private readonly repo: Repository,
    readonly writer: BlobWriter,
    private readonly reader: FileReader,
    private readonly meter: ProgressMeter,
    private readonly scan: ScanResult,
    private readonly scratch: () => string,
    private readonly signal: AbortSignal | undefined,
    private readonly features: {
      /** Whether files carry their ctime, and whether it decides that a file is unchanged. */
      ctime: { record: boolean; compare: boolean };
      /** Whether names and link targets that are not UTF-8 may be stored (the repository lists `byte-names`). */
      byteNames: () => Promise<boolean>;
      /** Whether extended attributes may be stored (the repository lists `xattrs`); null where they cannot be
       *  read (the native addon is missing). */
      xattrs: (() => Promise<boolean>) | null;
    },
    private readonly sqliteWorkerScript?: string,
    private readonly background = false,
    /** A file that is a SQLite database is copied consistently before it is read. */
    private readonly detectSqlite = true,
  ) {}

  /** Walks a directory, depth first: lists it, hands each file to the reader (waiting for a free slot) and walks
   *  each subdirectory the same way, then returns with its node to come, whose tree blob is saved once all its
   *  entries are. The walk goes on while files are read: what is held is the directories under way, not the tree. */
  async walkDir(entry: FsEntry, parentTree: Promise<Tree> | null): Promise<{ node: Promise<TreeNode> }> {
    throwIfAborted(this.signal);
    const previous = new Map<string, TreeNode>();
    if (parentTree) for (const node of (await parentTree).nodes) previous.set(node.name, node);
    const children = listDirectory(entry, this.scan.rules, (where, why) => this.skip(where, why)) ?? [];
    // The previous trees of the next few subdirectories are read ahead, so that a cold cache or a remote
    // repository costs one round trip at a time less than one per directory.
    const subtrees = new SubtreeReader(
      this.repo,
      children.filter((c) => c.type === 'dir').map((c) => ({ name: c.name, before: previous.get(c.name) })),
    );
    const pending: Promise<TreeNode | null>[] = [];
    for (const child of children) {
      // A failure under way (a file that cannot be stored) ends the walk; and the event loop gets a turn now and
      // then (a cancel, progress), since unchanged files are handed on without waiting for anything.
      if (this.failure) throw this.failure.error;
      if (++this.sinceTurn >= WALK_TURN_ENTRIES) {
        this.sinceTurn = 0;
        await new Promise((r) => setImmediate(r));
        throwIfAborted(this.signal);
      }
      if (hasRawBytes(child.name) && !(await this.features.byteNames())) {
        this.skip(child.path, NO_BYTE_NAMES);
        continue;
      }
      const before = previous.get(child.name);
      if (child.type === 'dir') pending.push((await this.walkDir(child, subtrees.take(child.name))).node);
      else if (child.type === 'file') pending.push(this.noteFailure((await this.startFile(child, before)).node));
      else pending.push(Promise.resolve(await this.specialNode(child)));
    }
    previous.clear();
    return { node: quiet(this.saveTree(entry, pending)) };
  }

  /** Keeps the first failure of a file for the walk to stop at; handled where it is awaited, later. */
  private noteFailure<T>(p: Promise<T>): Promise<T> {
    p.catch((error) => {
      this.failure ??= { error };
    });
    return p;
  }

  private async saveTree(entry: FsEntry, pending: Promise<TreeNode | null>[]): Promise<TreeNode> {
    const nodes = (await Promise.all(pending)).filter((n): n is TreeNode => n !== null);
    const bytes = encodeTree({ nodes });
    const id = this.repo.blobId(bytes);
    await this.writer.save('tree', id, bytes);
    this.dirs++;
    return this.withXattrs({ ...baseNode(entry), subtree: id }, entry);
  }

  /** After a failure: lets reads and pack writes under way finish, so nothing is written once the lock is gone. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.reads]);
    await this.writer.settle();
  }

  private async specialNode(entry: FsEntry): Promise<TreeNode | null> {
    if (entry.type === 'fifo') return this.withXattrs(baseNode(entry), entry);
    if (entry.type === 'symlink') {
      let target: string;
      try {
        target = decodeBytes(readlinkSync(fsPath(entry.path), { encoding: 'buffer' }));
      } catch (err) {
        return this.skip(entry.path, `symbolic link not readable: ${(err as Error).message}`);
      }
      const node = { ...baseNode(entry), target };
      if (needsByteNames(node) && !(await this.features.byteNames())) return this.skip(entry.path, NO_BYTE_NAMES);
      return this.withXattrs(node, entry);
    }
    return this.skip(
      entry.path,
      `${entry.type === 'socket' ? 'socket' : 'device'} not backed up: special files are never read`,
    );
  }

  /** Resolves at once for an unchanged file; otherwise waits for a free slot and returns the read in progress
   *  (wrapped, since a promise resolved with a promise would wait for it). */
  private async startFile(entry: FsEntry, before: TreeNode | undefined): Promise<{ node: Promise<TreeNode | null> }> {
    const size = Number(entry.stat.size);
    // A database's committed data may sit in its -wal with the main file untouched: never trust its metadata.
    if (
      !entry.sqlite &&
      before &&
      !before.sqlite &&
      isUnchanged(before, entry, this.features.ctime.compare) &&
      before.content!.every((id) => this.writer.has(id))
    ) {
      this.count(size);
      this.meter.tick();
      return { node: this.fileNode(entry, size).then((node) => ({ ...node, content: before.content })) };
    }
    const held = Math.min(size, FILE_BYTES_HELD);
    while (
      this.inFlight >= MAX_FILES_IN_FLIGHT ||
      (this.inFlight > 0 && this.bytesInFlight + held > MAX_BYTES_IN_FLIGHT)
    ) {
      await new Promise<void>((r) => this.slotFreed.push(r));
    }
    throwIfAborted(this.signal);
    this.inFlight++;
    this.bytesInFlight += held;
    const sqlite = entry.sqlite === true || before?.sqlite === true;
    const node = this.readFile(entry, size, sqlite).finally(() => {
      this.inFlight--;
      this.bytesInFlight -= held;
      this.reads.delete(node);
      this.slotFreed.shift()?.();
    });
    this.reads.add(node);
    return { node };
  }

  private async readFile(entry: FsEntry, size: number, sqlite: boolean): Promise<TreeNode | null> {
    this.meter.currentPath = displayPath(entry.path);
    let result = sqlite
      ? ({ kind: 'sqlite' } as const)
      : await this.reader.read(entry.path, size, this.detectSqlite, this.store);
    if (result.kind === 'sqlite') {
      result = await this.readSqlite(entry.path);
      sqlite = true;
    }
    if (result.kind === 'error') {
      this.meter.bytesDone += size;
      return this.skip(entry.path, `file not readable, skipped: ${result.message}`);
    }
    if (result.kind !== 'read') throw new EngineError('io', `unexpected result reading ${entry.path}`);
    // The snapshot may only name blobs that are stored or on their way into a pack.
    const missing = result.content.find((id) => !this.writer.has(id));
    if (missing)
      throw new EngineError(
        'corrupt',
        `internal error: blob ${missing.slice(0, 12)} of ${entry.path} was neither stored nor queued`,
      );
    this.filesRead++;
    this.count(result.size);
    this.meter.tick();
    const node: TreeNode = { ...(await this.fileNode(entry, result.size)), content: result.content };
    if (sqlite) node.sqlite = true;
    return node;
  }

  private async readSqlite(file: string): Promise<FileResult> {
    const copy = path.join(this.scratch(), `db-${randomBytes(6).toString('hex')}.sqlite`);
    const shown = displayPath(file);
    try {
      // Created 0600 before SQLite writes into it: the copy is as private as the database it is of.
      writeFileSync(copy, '', { mode: 0o600 });
      await atSqlitePath(file, (name) =>
        this.sqliteWorkerScript
          ? copySqliteOnThread(
              this.sqliteWorkerScript,
              name,
              copy,
              (message) => this.meter.warn(shown, message),
              shown,
              this.background,
            )
          : copySqliteConsistently(name, copy, (message) => this.meter.warn(shown, message), shown),
      );
      crashPoint('sqlite-copy');
      return await this.reader.read(copy, statSync(copy).size, false, this.store);
    } catch (err) {
      if (isEngineError(err, 'source-unreadable')) return { kind: 'error', message: err.message };
      throw err;
    } finally {
      rmSync(copy, { force: true });
    }
  }

  /** Puts new blobs sealed by the reader into packs: a file's batches, while it is read and at its end. */
  private readonly store = async (blobs: NewBlob[]): Promise<void> => {
    throwIfAborted(this.signal);
    for (const blob of blobs) {
      // Sealed twice (by two readers, or by one that forgot it had handed it on): stored once.
      if (this.writer.has(blob.id)) continue;
      await this.writer.copySealed(
        'data',
        blob.id,
        Buffer.from(blob.sealed.buffer, blob.sealed.byteOffset, blob.sealed.byteLength),
        blob.rawLength,
      );
    }
  };

  private fileNode(entry: FsEntry, size: number): Promise<TreeNode> {
    const node: TreeNode = { ...baseNode(entry), size, dev: Number(entry.stat.dev), inode: Number(entry.stat.ino) };
    if (this.features.ctime.record) node.ctimeNs = entry.stat.ctimeNs.toString();
    return this.withXattrs(node, entry);
  }

  /** The node with the entry's extended attributes (POSIX ACLs among them), where it has any and the repository
   *  may keep them; what cannot be kept is said in a warning, and the entry is saved without it. */
  private async withXattrs(node: TreeNode, entry: FsEntry): Promise<TreeNode> {
    if (!this.features.xattrs) return node;
    let xattrs: Xattr[];
    try {
      xattrs = readXattrs(entry.path);
    } catch (err) {
      this.warn(entry.path, `saved without its extended attributes, which cannot be read: ${(err as Error).message}`);
      return node;
    }
    if (xattrs.length === 0) return node;
    if (!(await this.features.xattrs())) {
      this.warn(entry.path, NO_XATTRS);
      return node;
    }
    if (xattrs.some((x) => hasRawBytes(x.name)) && !(await this.features.byteNames())) {
      this.warn(entry.path, NO_BYTE_NAMED_XATTRS);
      xattrs = xattrs.filter((x) => !hasRawBytes(x.name));
    }
    return xattrs.length > 0 ? { ...node, xattrs } : node;
  }

  private count(size: number): void {
    this.files++;
    this.bytes += size;
    this.meter.filesDone++;
    this.meter.bytesDone += size;
    // Until the count is whole, the totals are at least what is done.
    const totals = this.scan.totals;
    this.meter.filesTotal = Math.max(totals.files, this.meter.filesDone);
    this.meter.bytesTotal = Math.max(totals.bytes, this.meter.bytesDone);
  }

  private skip(file: string, message: string): null {
    this.warn(file, message);
    return null;
  }

  private warn(file: string, message: string): void {
    const shown = displayPath(file);
    this.warnings.push(`${shown}: ${message}`);
    this.meter.warn(shown, message);
  }
}

/** A promise whose rejection is handled where it is awaited, later; this keeps Node from calling it unhandled
 *  in the meantime. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

function baseNode(entry: FsEntry): TreeNode {
  return {
    name: entry.name,
    type: entry.type,
    mode: Number(entry.stat.mode) & 0o7777,
    mtimeNs: entry.stat.mtimeNs.toString(),
    uid: Number(entry.stat.uid),
    gid: Number(entry.stat.gid),
  };
}

/** A file the previous snapshot has, with the same size, mtime and inode (and ctime, when compared: a snapshot
 *  without it, from before the `ctime` feature, means every file is read once more). */
function isUnchanged(before: TreeNode, entry: FsEntry, compareCtime: boolean): boolean {
  return (
    before.type === 'file' &&
    before.content !== undefined &&
    before.size === Number(entry.stat.size) &&
    before.mtimeNs === entry.stat.mtimeNs.toString() &&
    before.inode === Number(entry.stat.ino) &&
    (!compareCtime || before.ctimeNs === entry.stat.ctimeNs.toString())
  );
}

/** Uses a format feature: listed in the config already, or listed now. A process that may not write the config
 *  (a node, through the storage API) goes on without it until the control plane lists it. */
async function withFeature(repo: Repository, feature: string, meter: ProgressMeter): Promise<boolean> {
  if (repo.config.features?.includes(feature)) return true;
  try {
    await repo.enableFeature(feature);
    return true;
  } catch (err) {
    meter.warn(
      'config',
      `the repository does not list the ${feature} feature and it cannot be added from here (${(err as Error).message}): backing up without it`,
    );
    return false;
  }
}

/** Subdirectories whose previous trees are read ahead of the walk. */
const SUBTREES_AHEAD = 8;

/** The previous trees of a directory's subdirectories, in walk order, each read a few directories ahead. */
class SubtreeReader {
  private readonly started = new Map<number, Promise<Tree> | null>();
  private readonly position = new Map<string, number>();
  private ahead = 0;

  constructor(
    private readonly repo: Repository,
    /** Each subdirectory's name, in walk order, and what the previous snapshot had under that name. */
    private readonly dirs: { name: string; before: TreeNode | undefined }[],
  ) {
    for (const [i, d] of dirs.entries()) this.position.set(d.name, i);
  }

  /** The named subdirectory's previous tree, or null if it had none. Those the walk passes over are skipped. */
  take(name: string): Promise<Tree> | null {
    const at = this.position.get(name);
    if (at === undefined) return null;
    for (
      this.ahead = Math.max(this.ahead, at);
      this.ahead < Math.min(this.dirs.length, at + SUBTREES_AHEAD);
      this.ahead++
    ) {
      const node = this.dirs[this.ahead].before;
      this.started.set(this.ahead, node?.type === 'dir' && node.subtree ? readPrevious(this.repo, node.subtree) : null);
    }
    const tree = this.started.get(at) ?? null;
    for (const i of this.started.keys()) if (i <= at) this.started.delete(i);
    return tree;
  }
}

/** A previous tree, if the index still has it; read failures are the walk's when it gets there. */
function readPrevious(repo: Repository, id: string): Promise<Tree> | null {
  if (!repo.index.has(id)) return null;
  const tree = repo.readTree(id);
  tree.catch(() => undefined);
  return tree;
}
