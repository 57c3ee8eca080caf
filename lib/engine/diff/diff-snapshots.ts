// What changed between two snapshots: entries added, removed, and changed (content, type or mode).
import type { Repository } from '../repository/repository';
import type { TreeNode } from '../repository/tree';

export interface DiffEntry {
  change: 'added' | 'removed' | 'changed';
  path: string;
  type: TreeNode['type'];
  /** Bytes of the file in the newer snapshot (or the older, for removals). */
  size: number;
}

/** Walks both trees together; identical subtrees (same tree blob) are skipped whole. */
export async function diffSnapshots(repo: Repository, olderTree: string, newerTree: string): Promise<DiffEntry[]> {
  await repo.loadIndex();
  const out: DiffEntry[] = [];
  const listAll = async (treeId: string, dir: string, change: 'added' | 'removed') => {
    for (const node of (await repo.readTree(treeId)).nodes) {
      const p = `${dir === '/' ? '' : dir}/${node.name}`;
      out.push({ change, path: p, type: node.type, size: node.size ?? 0 });
      if (node.subtree) await listAll(node.subtree, p, change);
    }
  };
  const walk = async (a: string, b: string, dir: string): Promise<void> => {
    if (a === b) return;
    const older = new Map((await repo.readTree(a)).nodes.map((n) => [n.name, n]));
    const newer = new Map((await repo.readTree(b)).nodes.map((n) => [n.name, n]));
    const names = [...new Set([...older.keys(), ...newer.keys()])].sort();
    for (const name of names) {
      const o = older.get(name);
      const n = newer.get(name);
      const p = `${dir === '/' ? '' : dir}/${name}`;
      if (!o) {
        out.push({ change: 'added', path: p, type: n!.type, size: n!.size ?? 0 });
        if (n!.subtree) await listAll(n!.subtree, p, 'added');
      } else if (!n) {
        out.push({ change: 'removed', path: p, type: o.type, size: o.size ?? 0 });
        if (o.subtree) await listAll(o.subtree, p, 'removed');
      } else if (o.type === 'dir' && n.type === 'dir') {
        await walk(o.subtree!, n.subtree!, p);
      } else if (
        o.type !== n.type ||
        o.mode !== n.mode ||
        o.target !== n.target ||
        (o.content ?? []).join() !== (n.content ?? []).join()
      ) {
        out.push({ change: 'changed', path: p, type: n.type, size: n.size ?? 0 });
      }
    }
  };
  await walk(olderTree, newerTree, '/');
  return out;
}
