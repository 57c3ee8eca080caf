// Walks snapshot trees and gathers every blob they reference, checking each as it goes.
import type { Repository } from '../repository/repository';

export interface References {
  trees: Set<string>;
  data: Set<string>;
  errors: string[];
}

/** `check` returns a problem with a blob, or null; trees found missing are not descended into. */
export async function collectReferences(
  repo: Repository,
  roots: string[],
  check: (id: string) => string | null = () => null,
  into: References = { trees: new Set(), data: new Set(), errors: [] },
): Promise<References> {
  const pending = [...roots];
  while (pending.length > 0) {
    const treeId = pending.pop()!;
    if (into.trees.has(treeId)) continue;
    into.trees.add(treeId);
    const problem = check(treeId);
    if (problem) {
      into.errors.push(problem);
      continue;
    }
    let tree;
    try {
      tree = await repo.readTree(treeId);
    } catch (err) {
      into.errors.push(`tree ${treeId.slice(0, 12)}: ${(err as Error).message}`);
      continue;
    }
    for (const node of tree.nodes) {
      if (node.subtree) pending.push(node.subtree);
      for (const id of node.content ?? []) {
        if (into.data.has(id)) continue;
        into.data.add(id);
        const p = check(id);
        if (p) into.errors.push(p);
      }
    }
  }
  return into;
}
