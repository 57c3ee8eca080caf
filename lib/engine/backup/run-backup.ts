// A backup: scan the sources, save new file content and one tree per directory, then the snapshot.
// Files unchanged since the parent snapshot (size, mtime, inode) are not read again.
import { closeSync, mkdtempSync, openSync, readlinkSync, readSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { EngineError, fromSystemError, throwIfAborted } from '../errors';
import { ProgressMeter, type EventSink } from '../progress';
import { BlobWriter } from '../repository/blob-writer';
import { InlineEncoder, type Encoder } from '../repository/encoder';
import type { Repository } from '../repository/repository';
import { sourceKey, type Snapshot, type SnapshotRecord } from '../repository/snapshot';
import { encodeTree, type Tree, type TreeNode } from '../repository/tree';
import { crashPoint } from '../test-hooks';
import { compileExcludes } from '../sources/exclude';
import { copySqliteConsistently, hasSqliteHeader } from '../sources/sqlite-file';
import { scanSources, type FsEntry } from '../sources/walk';
import { adoptOrphanPacks } from './adopt-orphan-packs';

const READ_BYTES = 4 * 1024 * 1024;
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
  encoder?: Encoder;
}

export interface BackupResult {
  id: string;
  snapshot: Snapshot;
}

export async function runBackup(repo: Repository, options: BackupOptions): Promise<BackupResult> {
  const paths = options.paths.map((p) => path.resolve(p));
  const sqlite = (options.sqlite ?? []).map((p) => path.resolve(p));
  if (paths.length + sqlite.length === 0) throw new EngineError('invalid-argument', 'name at least one path or SQLite database to back up');
  const startedAt = new Date();
  const meter = new ProgressMeter('backup', options.onEvent);
  const lock = await repo.lock({ exclusive: false, operation: 'backup', waitMs: LOCK_WAIT_MS, signal: options.signal });
  const encoder = options.encoder ?? new InlineEncoder(repo.key.encryption);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lifeline-backup-'));
  try {
    await repo.loadIndex();
    await adoptOrphanPacks(repo);
    const source = sourceKey(options.node ?? os.hostname(), options.sourceName ?? [...paths, ...sqlite].join(','));
    const parent = await findParent(repo, source, options.parent);
    meter.phase('scan');
    const scan = await scanSources(paths, sqlite, compileExcludes(options.exclude ?? []), meter, options.signal);
    meter.filesTotal = scan.files;
    meter.bytesTotal = scan.bytes;
    meter.phase('save');
    const saver = new TreeSaver(repo, new BlobWriter(repo, encoder), meter, scratch, options.signal);
    const rootNode = await saver.saveDir(scan.root, parent ? parent.tree : null);
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
        skipped: saver.warnings.length,
        startedAt: startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
        durationMs: endedAt.getTime() - startedAt.getTime(),
      },
      warnings: saver.warnings,
    };
    const id = await repo.saveSnapshot(snapshot);
    crashPoint('snapshot');
    return { id, snapshot };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (!options.encoder) await encoder.close();
    await lock.release();
  }
}

async function findParent(repo: Repository, source: string, wanted: string | null | undefined): Promise<SnapshotRecord | null> {
  if (wanted === null) return null;
  if (wanted) return repo.resolveSnapshot(wanted);
  const mine = (await repo.listSnapshots()).filter((s) => s.source === source);
  return mine.at(-1) ?? null;
}

class TreeSaver {
  files = 0;
  dirs = 0;
  bytes = 0;
  filesRead = 0;
  readonly warnings: string[] = [];

  constructor(
    private readonly repo: Repository,
    readonly writer: BlobWriter,
    private readonly meter: ProgressMeter,
    private readonly scratch: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async saveDir(entry: FsEntry, parentTreeId: string | null): Promise<TreeNode> {
    throwIfAborted(this.signal);
    const previous = new Map<string, TreeNode>();
    if (parentTreeId && this.repo.index.has(parentTreeId)) {
      for (const node of (await this.repo.readTree(parentTreeId)).nodes) previous.set(node.name, node);
    }
    const tree: Tree = { nodes: [] };
    for (const child of entry.children!.values()) {
      const before = previous.get(child.name);
      const node = await this.saveEntry(child, before);
      if (node) tree.nodes.push(node);
    }
    const bytes = encodeTree(tree);
    const id = this.repo.blobId(bytes);
    await this.writer.save('tree', id, bytes);
    this.dirs++;
    return { ...baseNode(entry), subtree: id };
  }

  private async saveEntry(entry: FsEntry, before: TreeNode | undefined): Promise<TreeNode | null> {
    switch (entry.type) {
      case 'dir':
        return this.saveDir(entry, before?.type === 'dir' ? (before.subtree ?? null) : null);
      case 'file':
        return this.saveFile(entry, before);
      case 'symlink':
        try {
          return { ...baseNode(entry), target: readlinkSync(entry.path) };
        } catch (err) {
          return this.skip(entry.path, `symbolic link not readable: ${(err as Error).message}`);
        }
      case 'fifo':
        return baseNode(entry);
      default:
        return this.skip(entry.path, `${entry.type === 'socket' ? 'socket' : 'device'} recorded as absent: special files are not backed up`);
    }
  }

  private async saveFile(entry: FsEntry, before: TreeNode | undefined): Promise<TreeNode | null> {
    const size = Number(entry.stat.size);
    this.meter.currentPath = entry.path;
    if (!entry.sqlite && before && isUnchanged(before, entry) && before.content!.every((id) => this.writer.has(id))) {
      this.files++;
      this.bytes += size;
      this.meter.filesDone++;
      this.meter.bytesDone += size;
      this.meter.tick();
      return { ...baseNode(entry), size, dev: Number(entry.stat.dev), inode: Number(entry.stat.ino), content: before.content };
    }
    let saved: { content: string[]; size: number; sqlite: boolean };
    try {
      saved = await this.readContent(entry.path, entry.sqlite === true || before?.sqlite === true ? 'sqlite' : 'detect');
    } catch (err) {
      if (err instanceof EngineError && (err.code === 'cancelled' || err.code === 'disk-full' || err.code === 'corrupt')) throw err;
      this.meter.bytesDone += size;
      return this.skip(entry.path, `file not readable, skipped: ${(err as Error).message}`);
    }
    this.files++;
    this.filesRead++;
    this.bytes += saved.size;
    this.meter.filesDone++;
    this.meter.tick();
    const node: TreeNode = { ...baseNode(entry), size: saved.size, dev: Number(entry.stat.dev), inode: Number(entry.stat.ino), content: saved.content };
    if (saved.sqlite) node.sqlite = true;
    return node;
  }

  /** Reads a file through the chunker; a file that turns out to be a SQLite database is read from a consistent copy instead. */
  private async readContent(file: string, kind: 'detect' | 'sqlite' | 'plain'): Promise<{ content: string[]; size: number; sqlite: boolean }> {
    if (kind === 'sqlite') return this.readSqlite(file);
    const chunker = this.repo.newChunker();
    const content: string[] = [];
    let size = 0;
    let ready: Buffer[] = [];
    const fd = openSync(file, 'r');
    try {
      for (;;) {
        throwIfAborted(this.signal);
        const buf = Buffer.allocUnsafe(READ_BYTES);
        const n = readSync(fd, buf, 0, READ_BYTES, size);
        if (n === 0) break;
        if (kind === 'detect' && size === 0 && hasSqliteHeader(buf.subarray(0, n))) {
          size = -1;
          break;
        }
        size += n;
        this.meter.bytesDone += n;
        chunker.push(buf.subarray(0, n), (c) => ready.push(c));
        ready = await this.saveChunks(ready, content);
        this.meter.tick();
      }
    } finally {
      closeSync(fd);
    }
    // Closed first: SQLite's own descriptors must not share this process's locks with a stray one.
    if (size < 0) return this.readSqlite(file);
    chunker.finish((c) => ready.push(c));
    await this.saveChunks(ready, content);
    return { content, size, sqlite: false };
  }

  private async readSqlite(file: string): Promise<{ content: string[]; size: number; sqlite: boolean }> {
    const copy = path.join(this.scratch, `db-${this.filesRead}.sqlite`);
    try {
      await copySqliteConsistently(file, copy);
      const { content, size } = await this.readContent(copy, 'plain');
      return { content, size, sqlite: true };
    } finally {
      rmSync(copy, { force: true });
    }
  }

  private async saveChunks(chunks: Buffer[], content: string[]): Promise<Buffer[]> {
    for (const chunk of chunks) {
      const id = this.repo.blobId(chunk);
      content.push(id);
      try {
        await this.writer.save('data', id, chunk);
      } catch (err) {
        throw fromSystemError(err, 'the repository');
      }
    }
    return [];
  }

  private skip(file: string, message: string): null {
    this.warnings.push(`${file}: ${message}`);
    this.meter.warn(file, message);
    return null;
  }
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

function isUnchanged(before: TreeNode, entry: FsEntry): boolean {
  return (
    before.type === 'file' &&
    before.content !== undefined &&
    before.size === Number(entry.stat.size) &&
    before.mtimeNs === entry.stat.mtimeNs.toString() &&
    before.inode === Number(entry.stat.ino)
  );
}
