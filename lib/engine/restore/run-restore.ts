// A restore: plan, refuse what is unsafe before writing anything, then write every file under a temporary name,
// check it against its content hashes from disk, and only then put it in place.
import { chmodSync, lchownSync, lstatSync, lutimesSync, mkdirSync, promises as fs, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';

import { EngineError, fromSystemError, throwIfAborted } from '../errors';
import { ProgressMeter, type EventSink } from '../progress';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import type { TreeNode } from '../repository/tree';
import { checkSqliteIntegrity, SQLITE_SIDECARS } from '../sources/sqlite-file';
import { openHolders } from './open-holders';
import { TaskPool } from '../task-pool';
import { isUnder, normaliseIncludes, planRestore, type PlannedEntry, type RestorePlan } from './plan-restore';

export interface RestoreOptions {
  snapshot: SnapshotRecord;
  /** Each path is restored at target/<its absolute path>; "/" restores in place. */
  target: string;
  include?: string[];
  delete?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

export interface RestoreResult {
  plan: RestorePlan;
  created: number;
  overwritten: number;
  deleted: number;
  filesRestored: number;
  bytesRestored: number;
  /** Every restored file was read back from disk and matched its content hashes. */
  verified: boolean;
  durationMs: number;
  warnings: string[];
}

export async function runRestore(repo: Repository, options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const target = path.resolve(options.target);
  const include = normaliseIncludes(options.include ?? []);
  const meter = new ProgressMeter('restore', options.onEvent);
  await repo.loadIndex();
  meter.phase('plan');
  const plan = await planRestore(repo, options.snapshot.tree, options.snapshot.paths, target, include, options.delete === true);
  const count = (a: PlannedEntry['action']) => plan.entries.filter((e) => e.action === a).length;
  const result: RestoreResult = {
    plan,
    created: count('create'),
    overwritten: count('overwrite'),
    deleted: count('delete'),
    filesRestored: 0,
    bytesRestored: 0,
    verified: false,
    durationMs: 0,
    warnings: [],
  };
  refuseDatabasesInUse(plan);
  if (options.dryRun) {
    result.durationMs = Date.now() - started;
    return result;
  }
  meter.filesTotal = plan.files;
  meter.bytesTotal = plan.bytes;
  meter.phase('restore');
  const dirs: PlannedEntry[] = [];
  const files = new TaskPool(FILES_IN_FLIGHT);
  const made = new Set<string>();
  try {
    for (const entry of plan.entries) {
      throwIfAborted(options.signal);
      try {
        if (entry.action === 'delete') {
          rmSync(entry.destination, { recursive: true, force: true });
          continue;
        }
        const node = entry.node!;
        if (node.type === 'dir') {
          if (entry.action === 'overwrite') rmSync(entry.destination, { recursive: true, force: true });
          mkdirSync(entry.destination, { recursive: true, mode: 0o700 });
          made.add(entry.destination);
          dirs.push(entry);
          continue;
        }
        const parent = path.dirname(entry.destination);
        if (!made.has(parent)) {
          mkdirSync(parent, { recursive: true, mode: 0o700 });
          made.add(parent);
        }
        if (entry.action === 'overwrite') removeIfDirectory(entry.destination);
        if (node.type === 'file') {
          meter.currentPath = entry.path;
          await files.run(async () => {
            await restoreFile(repo, node, entry.destination, meter, options.signal).catch((err) => {
              throw fromSystemError(err, entry.destination);
            });
            result.filesRestored++;
            result.bytesRestored += node.size ?? 0;
            meter.filesDone++;
            meter.tick();
          });
        } else if (node.type === 'symlink') {
          replaceWith(entry.destination, (temp) => symlinkSync(node.target!, temp));
          applyMetadata(entry.destination, node);
        } else if (node.type === 'fifo') {
          replaceWith(entry.destination, (temp) => execFileSync('mkfifo', ['-m', (node.mode & 0o777).toString(8), temp]));
          applyMetadata(entry.destination, node);
        }
      } catch (err) {
        throw fromSystemError(err, entry.destination);
      }
    }
    await files.drain();
  } catch (err) {
    // No file may still be written once the restore has reported its failure.
    await files.settle();
    throw err;
  }
  // Directory times last and deepest first, since writing inside a directory changes its mtime. Directories
  // above the backed-up paths (/, /srv, …) are only the way there: an existing one keeps its own metadata.
  for (const entry of dirs.reverse()) {
    if (entry.action === 'create' || isUnder(entry.path, options.snapshot.paths)) applyMetadata(entry.destination, entry.node!);
  }
  meter.tick(true);
  result.verified = true;
  result.durationMs = Date.now() - started;
  return result;
}

/** Files restored at once: their opens, writes and renames overlap on libuv's thread pool. */
const FILES_IN_FLIGHT = 8;

async function restoreFile(repo: Repository, node: TreeNode, destination: string, meter: ProgressMeter, signal: AbortSignal | undefined): Promise<void> {
  const temp = `${destination}.lifeline-${randomBytes(4).toString('hex')}`;
  try {
    const file = await fs.open(temp, 'wx+', 0o600);
    try {
      const lengths: number[] = [];
      let offset = 0;
      for (const id of node.content ?? []) {
        throwIfAborted(signal);
        const chunk = await repo.readBlob(id);
        let done = 0;
        while (done < chunk.length) done += (await file.write(chunk, done, chunk.length - done, offset + done)).bytesWritten;
        offset += chunk.length;
        lengths.push(chunk.length);
        meter.bytesDone += chunk.length;
        meter.tick();
      }
      await verifyWritten(repo, file, temp, node, lengths);
      if (node.sqlite) await file.sync();
      await applyMetadataTo(file, node);
    } finally {
      await file.close();
    }
    if (node.sqlite) {
      const problem = checkSqliteIntegrity(temp);
      if (problem) throw new EngineError('corrupt', `restored database ${destination} fails its integrity check: ${problem}`);
      // A -wal left beside the old database would be replayed into the new one: remove it before the swap.
      for (const suffix of SQLITE_SIDECARS) rmSync(destination + suffix, { force: true });
      // The integrity check opened the file and so reset its times.
      applyMetadata(temp, node);
    }
    await fs.rename(temp, destination);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Reads the written file back and checks every chunk against the keyed hash it was stored under. */
async function verifyWritten(repo: Repository, file: fs.FileHandle, name: string, node: TreeNode, lengths: number[]): Promise<void> {
  let offset = 0;
  for (const [i, length] of lengths.entries()) {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await file.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done !== length || repo.blobId(buf) !== node.content![i]) {
      throw new EngineError('corrupt', `restored file ${name} does not read back as written: the disk returned other bytes`);
    }
    offset += length;
  }
  if (offset !== (node.size ?? 0)) throw new EngineError('corrupt', `restored file ${name} has ${offset} bytes, the snapshot says ${node.size}`);
}

async function applyMetadataTo(file: fs.FileHandle, node: TreeNode): Promise<void> {
  if (process.getuid?.() === 0) await file.chown(node.uid, node.gid).catch(() => undefined);
  await file.chmod(node.mode);
  const seconds = mtimeSeconds(node);
  await file.utimes(seconds, seconds);
}

function refuseDatabasesInUse(plan: RestorePlan): void {
  const databases = plan.entries.filter((e) => e.action === 'overwrite' && e.node?.sqlite).map((e) => e.destination);
  for (const db of databases) {
    const holders = openHolders([db, ...SQLITE_SIDECARS.map((s) => db + s)]);
    if (holders.length > 0) {
      throw new EngineError('database-in-use', `${db} is open in process ${holders.join(', ')}: stop the service that uses it before restoring it in place`);
    }
  }
}

function replaceWith(destination: string, make: (temp: string) => void): void {
  const temp = `${destination}.lifeline-${randomBytes(4).toString('hex')}`;
  make(temp);
  renameSync(temp, destination);
}

/** A file or link takes the place of a directory only by removing it; over anything else rename replaces it. */
function removeIfDirectory(destination: string): void {
  if (lstatSync(destination, { throwIfNoEntry: false })?.isDirectory()) rmSync(destination, { recursive: true, force: true });
}

function applyMetadata(file: string, node: TreeNode): void {
  if (process.getuid?.() === 0) {
    try {
      lchownSync(file, node.uid, node.gid);
    } catch {
      // ownership is best effort
    }
  }
  if (node.type !== 'symlink') chmodSync(file, node.mode);
  const seconds = mtimeSeconds(node);
  lutimesSync(file, seconds, seconds);
}

function mtimeSeconds(node: TreeNode): number {
  return Number(BigInt(node.mtimeNs) / 1000n) / 1e6;
}
