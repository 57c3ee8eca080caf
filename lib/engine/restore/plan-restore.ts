// What a restore will do, worked out before anything is written: every selected entry of the snapshot with its
// destination, whether that creates or overwrites, and (with `delete`) what in the target is not in the snapshot.
import { type Dirent, lstatSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { decodeBytes, displayPath, fsPath, parseDisplayPath } from '../byte-names';
import { EngineError } from '../errors';
import type { Repository } from '../repository/repository';
import type { TreeNode } from '../repository/tree';

export type RestoreAction = 'create' | 'overwrite' | 'merge' | 'delete';

export interface PlannedEntry {
  action: RestoreAction;
  /** Path inside the snapshot (absolute, as backed up); for deletions, the path in the target. */
  path: string;
  destination: string;
  type: TreeNode['type'] | 'other';
  size: number;
  node?: TreeNode;
  /** A file, link or FIFO restored where the target has a directory: the files the directory holds, which the
   *  restore removes (only with `delete`). */
  replacesDirectory?: number;
}

export interface RestorePlan {
  entries: PlannedEntry[];
  files: number;
  bytes: number;
}

/** A path to restore, as given, and what it may stand for: itself, and the path its `\xNN` sequences spell
 *  in bytes, as `ls` shows a name that is not UTF-8. Both are restored if both exist. */
export interface Include {
  given: string;
  paths: string[];
}

/** Normalises include paths: absolute, no trailing slash. */
export function normaliseIncludes(include: readonly string[]): Include[] {
  return include.map((p) => {
    if (!path.isAbsolute(p))
      throw new EngineError('invalid-argument', `include path ${p} must be absolute, as it was backed up`);
    const given = path.resolve(p);
    const bytes = parseDisplayPath(given);
    return { given, paths: bytes ? [given, bytes] : [given] };
  });
}

/** `roots` are the paths the snapshot backed up: deletions happen only at or below them, never in the
 *  directories above them that a snapshot holds only to reach them.
 *
 *  The snapshot may be hostile (a node writes its own sources' snapshots, and standbys restore what a primary
 *  ships), and so may what an earlier restore left in the target: a restore never writes through a symbolic link
 *  it finds where the snapshot has a directory. A link at a directory the restore writes is replaced by the
 *  directory; one on the way to an included path is refused. The one exception is an in-place restore's
 *  directories above the backed-up paths: the backup followed links there (walk.ts), and the restore does too. */
export async function planRestore(
  repo: Repository,
  rootTree: string,
  roots: string[],
  target: string,
  includes: Include[],
  withDelete: boolean,
): Promise<RestorePlan> {
  const plan: RestorePlan = { entries: [], files: 0, bytes: 0 };
  const include = includes.flatMap((inc) => inc.paths);
  const matched = new Set<string>();
  const selected = (p: string) => include.length === 0 || isUnder(p, include);
  const onTheWay = (p: string) => include.some((inc) => inc.startsWith(`${p}/`));
  const followable = (p: string) => target === '/' && isAbove(p, roots);

  // Below a destination directory that does not exist (or that the restore replaces), nothing exists: no need
  // to look, and looking could follow a link.
  const absent = new Set<string>();
  const walk = async (treeId: string, dir: string): Promise<void> => {
    const tree = await repo.readTree(treeId);
    const parentAbsent = absent.has(dir);
    const names = new Set<string>();
    for (const node of tree.nodes) {
      const p = path.posix.join(dir, node.name);
      const destination = path.join(target, p);
      names.add(node.name);
      const isSelected = selected(p);
      const wayDown = node.type === 'dir' && onTheWay(p);
      // Only what the restore writes or goes through is looked at.
      const found = parentAbsent || !(isSelected || wayDown) ? 'none' : existingAt(destination, followable(p));
      if (isSelected) {
        for (const inc of include) if (p === inc) matched.add(inc);
        add(plan, node, p, destination, found);
      } else if (wayDown && found !== 'none' && found !== 'dir') {
        throw new EngineError(
          'invalid-argument',
          `${displayPath(destination)} is ${found === 'link' ? 'a symbolic link' : 'a file'} where the snapshot has a directory: restoring below it would write through it. Remove it, or restore ${displayPath(p)} itself, which replaces it`,
        );
      }
      if (node.type === 'dir' && found !== 'dir') absent.add(p);
      if (node.type === 'dir' && node.subtree && (isSelected || wayDown)) await walk(node.subtree, p);
    }
    if (withDelete && selected(dir) && isUnder(dir, roots) && !absent.has(dir)) {
      for (const extra of listExtras(path.join(target, dir), names)) {
        plan.entries.push({
          action: 'delete',
          path: path.posix.join(dir, extra.name),
          destination: extra.full,
          type: 'other',
          size: extra.size,
        });
      }
    }
  };
  await walk(rootTree, '/');
  const missing = includes.filter((inc) => !inc.paths.some((p) => matched.has(p))).map((inc) => inc.given);
  if (missing.length > 0) throw new EngineError('not-found', `not in the snapshot: ${missing.join(', ')}`);
  return plan;
}

type Found = 'none' | 'dir' | 'link' | 'other';

/** What is at a destination: a directory (or, where `follow`, a link to one), a link, something else, or
 *  nothing. */
function existingAt(destination: string, follow: boolean): Found {
  const st = lstatSync(fsPath(destination), { throwIfNoEntry: false });
  if (!st) return 'none';
  if (st.isDirectory()) return 'dir';
  if (!st.isSymbolicLink()) return 'other';
  return follow && statSync(fsPath(destination), { throwIfNoEntry: false })?.isDirectory() ? 'dir' : 'link';
}

/** Adds an entry to the plan. */
function add(plan: RestorePlan, node: TreeNode, p: string, destination: string, found: Found): void {
  // An existing directory is kept and filled in; only its metadata is restored.
  const action: RestoreAction =
    found === 'none' ? 'create' : node.type === 'dir' && found === 'dir' ? 'merge' : 'overwrite';
  const entry: PlannedEntry = { action, path: p, destination, type: node.type, size: node.size ?? 0, node };
  if (found === 'dir' && node.type !== 'dir') entry.replacesDirectory = countFiles(destination);
  plan.entries.push(entry);
  if (node.type === 'file') {
    plan.files++;
    plan.bytes += node.size ?? 0;
  }
}

/** The files in a directory and below it (links and other entries count as files; directories do not). */
function countFiles(dir: string): number {
  let count = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(fsPath(current), { withFileTypes: true, encoding: 'buffer' });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) stack.push(path.join(current, decodeBytes(entry.name)));
      else count++;
    }
  }
  return count;
}

function listExtras(dir: string, keep: Set<string>): { name: string; full: string; size: number }[] {
  let names: string[];
  try {
    names = readdirSync(fsPath(dir), { encoding: 'buffer' }).map(decodeBytes);
  } catch {
    return [];
  }
  return names
    .filter((n) => !keep.has(n))
    .sort()
    .map((name) => {
      const full = path.join(dir, name);
      let size = 0;
      try {
        const st = lstatSync(fsPath(full));
        size = st.isFile() ? st.size : 0;
      } catch {
        // gone meanwhile
      }
      return { name, full, size };
    });
}

export function isUnder(p: string, bases: readonly string[]): boolean {
  return bases.some((b) => p === b || p.startsWith(b === '/' ? '/' : `${b}/`));
}

/** Whether `p` is a directory above one of `bases` (and not at or below any). */
export function isAbove(p: string, bases: readonly string[]): boolean {
  return !isUnder(p, bases) && bases.some((b) => b.startsWith(p === '/' ? '/' : `${p}/`));
}
