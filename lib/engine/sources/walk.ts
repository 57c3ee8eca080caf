// Scans what a backup will save: lstat of every entry under the given paths, excluded entries left out,
// the files that belong to a SQLite database (-wal, -shm, -journal) passed over. Totals feed the progress.
// Given paths may overlap: each is walked unless one that contains it was, so every file is saved once. The
// directories above a given path are followed if they are symbolic links (the backup goes through them, and they
// are stored as the directories they lead to); the given path itself is not (a link given is saved as a link).
import { lstatSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';

import { decodeBytes, displayPath, fsPath } from '../byte-names';
import { EngineError, throwIfAborted } from '../errors';
import type { ProgressMeter } from '../progress';
import type { NodeType } from '../repository/tree';
import type { ExcludeMatcher } from './exclude';
import { isSqliteFile, SQLITE_SIDECARS } from './sqlite-file';

export interface FsEntry {
  name: string;
  path: string;
  type: NodeType;
  stat: BigIntStats;
  /** Directories: entries by name; only those on the way to a backed-up path for the directories above it. */
  children?: Map<string, FsEntry>;
  /** Named with --sqlite: always copied through the backup API. */
  sqlite?: boolean;
  /** Walked whole (a given path, or below one), as opposed to a directory only on the way to a given path. */
  whole?: boolean;
  /** Directories walked whole: their entries could be listed. */
  listed?: boolean;
}

export interface ScanResult {
  root: FsEntry;
  files: number;
  bytes: number;
  /** What the scan skipped, as `path: why`: they go into the snapshot's warnings and its skipped count. */
  warnings: string[];
}

export async function scanSources(
  paths: string[],
  sqlitePaths: string[],
  exclude: ExcludeMatcher,
  meter: ProgressMeter,
  signal?: AbortSignal,
): Promise<ScanResult> {
  const root = entryFor('/', '');
  // Databases named on their own may also lie inside a backed-up directory: marked wherever the walk meets them.
  const sqlite = new Set(sqlitePaths.map((p) => path.resolve(p)));
  const result: ScanResult = { root, files: 0, bytes: 0, warnings: [] };
  const skip = (where: string, why: string) => {
    const shown = displayPath(where);
    result.warnings.push(`${shown}: ${why}`);
    meter.warn(shown, why);
  };
  let sinceYield = 0;
  const visit = async (entry: FsEntry): Promise<void> => {
    entry.whole = true;
    if (entry.type === 'file') {
      result.files++;
      result.bytes += Number(entry.stat.size);
    }
    if (entry.type !== 'dir') return;
    let raw: Buffer[];
    try {
      raw = readdirSync(fsPath(entry.path), { encoding: 'buffer' });
    } catch (err) {
      skip(entry.path, `directory not readable, its contents are skipped: ${(err as Error).message}`);
      return;
    }
    entry.listed = true;
    // Names are bytes: one that is not UTF-8 is kept as byte-names.ts decodes it.
    const names = raw.map(decodeBytes);
    const present = new Set(names);
    names.sort();
    for (const name of names) {
      const full = path.join(entry.path, name);
      if (exclude(full) || isSqliteSidecar(entry.path, name, present)) continue;
      let child: FsEntry;
      try {
        child = entryFor(full, name);
      } catch (err) {
        skip(full, `not readable, skipped: ${(err as Error).message}`);
        continue;
      }
      if (sqlite.has(full)) markSqlite(child);
      entry.children!.set(name, child);
      if (++sinceYield >= 2000) {
        sinceYield = 0;
        throwIfAborted(signal);
        await new Promise((r) => setImmediate(r));
      }
      await visit(child);
    }
  };

  // Sorted by their parts, a path comes after every path that contains it: one already walked covers it.
  const given = [...new Set([...paths, ...sqlite].map((p) => path.resolve(p)))].sort(byParts);
  for (const absolute of given) {
    const entry = placeSource(root, absolute, skip);
    if (!entry) continue;
    if (sqlite.has(absolute)) markSqlite(entry);
    await visit(entry);
  }
  return result;
}

function byParts(a: string, b: string): number {
  const x = a.split(path.sep);
  const y = b.split(path.sep);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}

/** Adds a backed-up path and the directories above it to the tree; null if a path walked already covers it, or
 *  if one walked already stands in its way (skipped, with the reason). */
function placeSource(root: FsEntry, absolute: string, skip: (where: string, why: string) => void): FsEntry | null {
  try {
    let parent = root;
    for (const part of absolute.split(path.sep).filter(Boolean).slice(0, -1)) {
      let next = parent.children!.get(part);
      if (!next) {
        const full = path.join(parent.path, part);
        next = entryFor(full, part, statSync(fsPath(full), { bigint: true }));
        if (next.type !== 'dir')
          throw new EngineError(
            'source-unreadable',
            `backup source ${absolute} cannot be read: ${full} is not a directory`,
          );
        parent.children!.set(part, next);
      }
      if (next.whole) {
        if (next.type !== 'dir')
          skip(
            absolute,
            `not backed up: it lies below ${next.path}, which is backed up as a ${next.type === 'symlink' ? 'symbolic link' : next.type} (name one or the other)`,
          );
        else if (!next.listed) skip(absolute, `not backed up: it lies below ${next.path}, which could not be read`);
        return null;
      }
      parent = next;
    }
    const name = path.basename(absolute);
    if (parent.children!.get(name)?.whole) return null;
    const entry = entryFor(absolute, name);
    parent.children!.set(name, entry);
    return entry;
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw new EngineError(
      'source-unreadable',
      `backup source ${absolute} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

function markSqlite(entry: FsEntry): void {
  if (entry.type !== 'file' || !isSqliteFile(entry.path))
    throw new EngineError('invalid-argument', `${entry.path} is not a SQLite database`);
  entry.sqlite = true;
}

function entryFor(full: string, name: string, stat = lstatSync(fsPath(full), { bigint: true })): FsEntry {
  const type = typeOf(stat);
  return { name, path: full, type, stat, children: type === 'dir' ? new Map() : undefined };
}

function typeOf(stat: BigIntStats): NodeType {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'chardev';
  return 'blockdev';
}

function isSqliteSidecar(dir: string, name: string, present: Set<string>): boolean {
  for (const suffix of SQLITE_SIDECARS) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      return present.has(base) && isSqliteFile(path.join(dir, base));
    }
  }
  return false;
}
