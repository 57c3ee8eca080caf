// A restore: plan, refuse what is unsafe before writing anything, create directories, links and FIFOs, then the
// files (restore-files.ts), and last the directories' metadata.
import { linkSync, lstatSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

import { displayPath, encodeBytes, fsPath } from '../byte-names';
import { EngineError, fromSystemError, isEngineError, throwIfAborted } from '../errors';
import { ProgressMeter, type EventSink } from '../progress';
import { type ReaderLockOptions, underReaderLock } from '../repository/lock';
import type { Repository } from '../repository/repository';
import type { TreeNode } from '../repository/tree';
import type { SnapshotRecord } from '../repository/snapshot';
import { SQLITE_SIDECARS } from '../sources/sqlite-file';
import { applyMetadata, applyXattrs, removeIfDirectory, tempBeside } from './metadata';
import { openHolders } from './open-holders';
import { checkTarget, inspectTarget, type TargetInspection, type TargetRule } from './target-check';
import { InlinePackDecoder, WorkerPackDecoder } from './pack-decoders';
import { restoreFiles, type FileJob } from './restore-files';
import { isAbove, isUnder, normaliseIncludes, planRestore, type PlannedEntry, type RestorePlan } from './plan-restore';

export interface RestoreOptions extends ReaderLockOptions {
  snapshot: SnapshotRecord;
  /** Each path is restored at target/<its absolute path>; "/" restores in place. */
  target: string;
  include?: string[];
  /** Also delete what the target has and the snapshot does not; implies replaceDirectories. */
  delete?: boolean;
  /** Let a file, link or FIFO of the snapshot take the place of a directory in the target, which is removed with
   *  what it holds; without it (or `delete`), such a restore is refused before anything is written. */
  replaceDirectories?: boolean;
  dryRun?: boolean;
  /** Set the extended attributes and ACLs the snapshot records (the default); false leaves them all unset. */
  xattrs?: boolean;
  /** For a restore elsewhere: what the target must be once its real path is resolved (target-check.ts), which is
   *  then where the restore writes. A dry run reports it (`target`) and refuses only a target that is `/`. */
  targetRule?: TargetRule;
  /** Also read every restored file back from disk and check it against its hashes (each blob is checked against
   *  its id as it is decoded in any case). */
  readBack?: boolean;
  /** The restore worker built beside the CLI: blobs are then decoded on every core. Without it, on this thread. */
  workerScript?: string;
  /** Work that must give way to everything else on the machine (a standby's applies and bases, beside its
   *  replication): the worker threads run at the lowest CPU priority. */
  background?: boolean;
  onEvent?: EventSink;
}

export interface RestoreResult {
  plan: RestorePlan;
  created: number;
  overwritten: number;
  deleted: number;
  filesRestored: number;
  bytesRestored: number;
  /** Every restored byte was checked against its content hash (as it was decoded). */
  verified: boolean;
  /** Every restored file was also read back from disk and matched its content hashes. */
  readBack: boolean;
  durationMs: number;
  /** What was restored only in part (an extended attribute the target refused), one line per entry. */
  warnings: string[];
  /** With a target rule: the target's real path and what is there. */
  target?: TargetInspection;
}

const PREVIEW_LOCK_WAIT_MS = 15_000;

/** Restores under a shared lock on the repository (lock.ts, `underReaderLock`): a prune that starts meanwhile
 *  deletes nothing until it is done. */
export function runRestore(repo: Repository, options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  // A preview is answered while someone waits on a page: it waits for a prune's sweep a short while only.
  const lockWaitMs = options.lockWaitMs ?? (options.dryRun ? PREVIEW_LOCK_WAIT_MS : undefined);
  return underReaderLock(
    (o) => repo.lock(o),
    'restore',
    { ...options, lockWaitMs },
    () => restoreLocked(repo, options, started),
  );
}

async function restoreLocked(repo: Repository, options: RestoreOptions, started: number): Promise<RestoreResult> {
  let target = path.resolve(options.target);
  let inspected: TargetInspection | undefined;
  if (options.targetRule) {
    inspected = options.dryRun ? inspectTarget(target) : checkTarget(target, options.targetRule);
    if (inspected.state === 'root') checkTarget(target, options.targetRule);
    target = inspected.real;
  }
  const include = normaliseIncludes(options.include ?? []);
  const meter = new ProgressMeter('restore', options.onEvent);
  await repo.loadIndex();
  meter.phase('plan');
  const plan = await planRestore(
    repo,
    options.snapshot.tree,
    options.snapshot.paths,
    target,
    include,
    options.delete === true,
  );
  const count = (a: PlannedEntry['action']) => plan.entries.filter((e) => e.action === a).length;
  const result: RestoreResult = {
    plan,
    created: count('create'),
    overwritten: count('overwrite'),
    deleted: count('delete'),
    filesRestored: 0,
    bytesRestored: 0,
    verified: false,
    readBack: false,
    durationMs: 0,
    warnings: [],
    ...(inspected ? { target: inspected } : {}),
  };
  refuseDatabasesInUse(plan);
  const replaced = plan.entries.find((e) => e.replacesDirectory !== undefined);
  if (replaced && !options.delete && !options.replaceDirectories && !options.dryRun)
    throw new EngineError(
      'invalid-argument',
      `the snapshot has a ${replaced.type === 'fifo' ? 'FIFO' : replaced.type === 'symlink' ? 'symbolic link' : 'file'} where ${displayPath(replaced.destination)} is a directory (${replaced.replacesDirectory} files): restoring would remove it. Give --delete or --replace-directories to allow that, or restore elsewhere`,
    );
  if (options.dryRun) {
    result.durationMs = Date.now() - started;
    return result;
  }
  meter.filesTotal = plan.files;
  meter.bytesTotal = plan.bytes;
  meter.phase('restore');
  // On `at` (a file's temporary name, or the entry itself), for the entry at `destination`.
  const attributes = (at: string, node: TreeNode, destination: string) => {
    if (options.xattrs === false) return;
    const problem = applyXattrs(at, node);
    if (!problem) return;
    result.warnings.push(`${displayPath(destination)}: ${problem}`);
    meter.warn(displayPath(destination), problem);
  };
  const dirs: PlannedEntry[] = [];
  const files: FileJob[] = [];
  const links: PlannedEntry[] = [];
  // Files that were one file under several names (hard links) at backup time: the first is restored, the others
  // are linked to it (08.4).
  const firstOfInode = new Map<string, string>();
  const hardLinks: { entry: PlannedEntry; first: string }[] = [];
  const writable = new WritableDirs(target, options.snapshot.paths);
  for (const entry of plan.entries) {
    throwIfAborted(options.signal);
    try {
      if (entry.action === 'delete') {
        rmSync(fsPath(entry.destination), { recursive: true, force: true });
        continue;
      }
      const node = entry.node!;
      writable.ensure(path.dirname(entry.destination));
      if (node.type === 'dir') {
        if (entry.action === 'overwrite') rmSync(fsPath(entry.destination), { recursive: true, force: true });
        if (entry.action !== 'merge') mkdirSync(fsPath(entry.destination), { mode: 0o700 });
        writable.made(entry.destination);
        dirs.push(entry);
      } else if (node.type === 'file') {
        const inode = inodeKey(node);
        const first = inode ? firstOfInode.get(inode) : undefined;
        if (first) hardLinks.push({ entry, first });
        else {
          if (inode) firstOfInode.set(inode, entry.destination);
          files.push({ node, destination: entry.destination, exists: entry.action === 'overwrite' });
        }
      } else if (node.type === 'symlink') {
        // Made once every file and directory is written: nothing this restore writes can go through them.
        links.push(entry);
      } else if (node.type === 'fifo') {
        if (entry.action === 'overwrite') removeIfDirectory(entry.destination);
        replaceWith(entry.destination, (temp) => makeFifo(temp, node.mode & 0o777));
        applyMetadata(entry.destination, node, () => attributes(entry.destination, node, entry.destination));
      }
    } catch (err) {
      throw isEngineError(err) ? err : fromSystemError(err, displayPath(entry.destination));
    }
  }
  const decoder = options.workerScript
    ? new WorkerPackDecoder(repo.key, options.workerScript, undefined, options.background)
    : new InlinePackDecoder(repo.key);
  try {
    await restoreFiles(repo, files, meter, {
      decoder,
      readBack: options.readBack === true,
      signal: options.signal,
      attributes: (at, job) => attributes(at, job.node, job.destination),
    });
  } catch (err) {
    throw fromSystemError(err, 'the restore target');
  } finally {
    await decoder.close();
  }
  for (const { entry, first } of hardLinks) {
    try {
      if (entry.action === 'overwrite') removeIfDirectory(entry.destination);
      replaceWith(entry.destination, (temp) => linkSync(fsPath(first), fsPath(temp)));
      meter.filesDone++;
    } catch (err) {
      throw fromSystemError(err, displayPath(entry.destination));
    }
  }
  for (const entry of links) {
    try {
      const node = entry.node!;
      if (entry.action === 'overwrite') removeIfDirectory(entry.destination);
      replaceWith(entry.destination, (temp) => symlinkSync(fsPath(node.target!), fsPath(temp)));
      applyMetadata(entry.destination, node, () => attributes(entry.destination, node, entry.destination));
    } catch (err) {
      throw fromSystemError(err, displayPath(entry.destination));
    }
  }
  result.filesRestored = files.length + hardLinks.length;
  result.bytesRestored = plan.bytes;
  // Directory times last and deepest first, since writing inside a directory changes its mtime. Directories
  // above the backed-up paths (/, /srv, …) are only the way there: an existing one keeps its own metadata.
  for (const entry of dirs.reverse()) {
    if (entry.action === 'create' || isUnder(entry.path, options.snapshot.paths)) {
      applyMetadata(entry.destination, entry.node!, () =>
        attributes(entry.destination, entry.node!, entry.destination),
      );
    }
  }
  meter.tick(true);
  result.verified = true;
  result.readBack = options.readBack === true;
  result.durationMs = Date.now() - started;
  return result;
}

function refuseDatabasesInUse(plan: RestorePlan): void {
  const databases = plan.entries.filter((e) => e.action === 'overwrite' && e.node?.sqlite).map((e) => e.destination);
  for (const db of databases) {
    const holders = openHolders([db, ...SQLITE_SIDECARS.map((s) => db + s)]);
    if (holders.length > 0) {
      throw new EngineError(
        'database-in-use',
        `${displayPath(db)} is open in process ${holders.join(', ')}: stop the service that uses it before restoring it in place`,
      );
    }
  }
}

/** The directories a restore writes in, checked once each: every one from the target down is a directory, or
 *  made now. A symbolic link is followed only above the backed-up paths of an in-place restore (the backup
 *  followed it); anywhere else it stops the restore, which would write through it (plan-restore.ts refuses such a
 *  restore before it starts; this holds if the target changed since). */
class WritableDirs {
  private readonly checked = new Set<string>();

  constructor(
    private readonly target: string,
    private readonly roots: string[],
  ) {}

  ensure(dir: string): void {
    if (this.checked.has(dir)) return;
    if (dir === this.target || !dir.startsWith(this.target === '/' ? '/' : `${this.target}/`)) {
      // The target itself and what is above it are the caller's choice.
      mkdirSync(fsPath(dir), { recursive: true, mode: 0o700 });
    } else {
      this.ensure(path.dirname(dir));
      const found = lstatSync(fsPath(dir), { throwIfNoEntry: false });
      if (!found) mkdirSync(fsPath(dir), { mode: 0o700 });
      else if (!found.isDirectory() && !(found.isSymbolicLink() && this.followable(dir)))
        throw new EngineError(
          'invalid-argument',
          `${displayPath(dir)} is ${found.isSymbolicLink() ? 'a symbolic link' : 'not a directory'} where the snapshot has a directory: the restore stopped rather than write through it`,
        );
    }
    this.checked.add(dir);
  }

  made(dir: string): void {
    this.checked.add(dir);
  }

  private followable(dir: string): boolean {
    return this.target === '/' && isAbove(dir, this.roots) && statSync(fsPath(dir)).isDirectory();
  }
}

/** What makes two file nodes one file: the same inode on the same device at backup time (a snapshot is taken in
 *  one pass, so two names with one inode were hard links), with the same content and metadata, so that a forged
 *  snapshot cannot make one name take another's data or mode. Null for a file without an inode (none recorded). */
function inodeKey(node: TreeNode): string | null {
  if (node.dev === undefined || node.inode === undefined) return null;
  return [node.dev, node.inode, node.size, node.mode, node.mtimeNs, node.uid, node.gid, ...(node.content ?? [])].join(
    ':',
  );
}

function replaceWith(destination: string, make: (temp: string) => void): void {
  const temp = tempBeside(destination);
  make(temp);
  renameSync(fsPath(temp), fsPath(destination));
}

/** mkfifo(1), given the path as octal escapes its shell's printf turns into bytes: an argument is text, and a
 *  path need not be. */
function makeFifo(file: string, mode: number): void {
  const escaped = [...encodeBytes(file)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
  execFileSync('sh', ['-c', 'exec mkfifo -m "$1" -- "$(printf "$2")"', 'sh', mode.toString(8), escaped]);
}
