// A restore: plan, refuse what is unsafe before writing anything, create directories, links and FIFOs, then the
// files (restore-files.ts), and last the directories' metadata.
import { mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';

import { displayPath, encodeBytes, fsPath } from '../byte-names';
import { EngineError, fromSystemError, throwIfAborted } from '../errors';
import { ProgressMeter, type EventSink } from '../progress';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import { SQLITE_SIDECARS } from '../sources/sqlite-file';
import { applyMetadata, removeIfDirectory } from './metadata';
import { openHolders } from './open-holders';
import { restoreFiles, type FileJob } from './restore-files';
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
  const files: FileJob[] = [];
  const made = new Set<string>();
  for (const entry of plan.entries) {
    throwIfAborted(options.signal);
    try {
      if (entry.action === 'delete') {
        rmSync(fsPath(entry.destination), { recursive: true, force: true });
        continue;
      }
      const node = entry.node!;
      if (node.type === 'dir') {
        if (entry.action === 'overwrite') rmSync(fsPath(entry.destination), { recursive: true, force: true });
        mkdirSync(fsPath(entry.destination), { recursive: true, mode: 0o700 });
        made.add(entry.destination);
        dirs.push(entry);
        continue;
      }
      const parent = path.dirname(entry.destination);
      if (!made.has(parent)) {
        mkdirSync(fsPath(parent), { recursive: true, mode: 0o700 });
        made.add(parent);
      }
      if (node.type === 'file') {
        files.push({ node, destination: entry.destination, exists: entry.action === 'overwrite' });
        continue;
      }
      if (entry.action === 'overwrite') removeIfDirectory(entry.destination);
      if (node.type === 'symlink') {
        replaceWith(entry.destination, (temp) => symlinkSync(fsPath(node.target!), fsPath(temp)));
        applyMetadata(entry.destination, node);
      } else if (node.type === 'fifo') {
        replaceWith(entry.destination, (temp) => makeFifo(temp, node.mode & 0o777));
        applyMetadata(entry.destination, node);
      }
    } catch (err) {
      throw fromSystemError(err, displayPath(entry.destination));
    }
  }
  try {
    await restoreFiles(repo, files, meter, options.signal);
  } catch (err) {
    throw fromSystemError(err, 'the restore target');
  }
  result.filesRestored = files.length;
  result.bytesRestored = plan.bytes;
  // Directory times last and deepest first, since writing inside a directory changes its mtime. Directories
  // above the backed-up paths (/, /srv, …) are only the way there: an existing one keeps its own metadata.
  for (const entry of dirs.reverse()) {
    if (entry.action === 'create' || isUnder(entry.path, options.snapshot.paths))
      applyMetadata(entry.destination, entry.node!);
  }
  meter.tick(true);
  result.verified = true;
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

function replaceWith(destination: string, make: (temp: string) => void): void {
  const temp = `${destination}.lifeline-${randomBytes(4).toString('hex')}`;
  make(temp);
  renameSync(fsPath(temp), fsPath(destination));
}

/** mkfifo(1), given the path as octal escapes its shell's printf turns into bytes: an argument is text, and a
 *  path need not be. */
function makeFifo(file: string, mode: number): void {
  const escaped = [...encodeBytes(file)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
  execFileSync('sh', ['-c', 'exec mkfifo -m "$1" -- "$(printf "$2")"', 'sh', mode.toString(8), escaped]);
}
