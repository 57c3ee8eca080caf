// What a restore will do, worked out before anything is written: every selected entry of the snapshot with its
// destination, whether that creates or overwrites, and (with `delete`) what in the target is not in the snapshot.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { decodeBytes, fsPath, parseDisplayPath } from '../byte-names';
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
 *  directories above them that a snapshot holds only to reach them. */
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

  // Below a destination directory that does not exist, nothing exists: no need to look.
  const absent = new Set<string>();
  const walk = async (treeId: string, dir: string): Promise<void> => {
    const tree = await repo.readTree(treeId);
    const parentAbsent = absent.has(dir);
    const names = new Set<string>();
    for (const node of tree.nodes) {
      const p = path.posix.join(dir, node.name);
      names.add(node.name);
      const isSelected = selected(p);
      if (isSelected) {
        for (const inc of include) if (p === inc) matched.add(inc);
        if (!add(plan, node, p, path.join(target, p), parentAbsent) && node.type === 'dir') absent.add(p);
      }
      if (node.type === 'dir' && node.subtree && (isSelected || onTheWay(p))) await walk(node.subtree, p);
    }
    if (withDelete && selected(dir) && isUnder(dir, roots)) {
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

/** Adds an entry to the plan; returns whether something exists at its destination. */
function add(plan: RestorePlan, node: TreeNode, p: string, destination: string, parentAbsent: boolean): boolean {
  const existing = parentAbsent ? undefined : lstatSync(fsPath(destination), { throwIfNoEntry: false });
  // An existing directory is kept and filled in; only its metadata is restored.
  const action: RestoreAction = !existing
    ? 'create'
    : node.type === 'dir' && existing.isDirectory()
      ? 'merge'
      : 'overwrite';
  plan.entries.push({ action, path: p, destination, type: node.type, size: node.size ?? 0, node });
  if (node.type === 'file') {
    plan.files++;
    plan.bytes += node.size ?? 0;
  }
  return existing !== undefined;
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
