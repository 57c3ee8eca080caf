// Snapshots written by hand, as a compromised node could write them into its own sources: any tree at all, with
// the same keys and storage as an honest backup.
import { BlobWriter } from '@/lib/engine/repository/blob-writer';
import type { Repository } from '@/lib/engine/repository/repository';
import { encodeTree, type TreeNode } from '@/lib/engine/repository/tree';

import { newRepository } from '../helpers';

export interface ForgeTools {
  /** A data blob of this text. */
  blob: (text: string) => Promise<string>;
  /** A tree blob of these nodes, or of this JSON text as it is stored. */
  tree: (entries: TreeNode[] | string) => Promise<string>;
}

/** A snapshot whose root tree holds `nodes`, in `repo` (a new repository by default), claiming `paths`. */
export async function forgeSnapshot(
  nodes: (make: ForgeTools) => Promise<TreeNode[]>,
  options: { repo?: Repository; paths?: string[] } = {},
) {
  const repo = options.repo ?? (await newRepository()).repo;
  const writer = new BlobWriter(repo);
  const blob = async (text: string) => {
    const bytes = Buffer.from(text);
    const id = repo.blobId(bytes);
    await writer.save('data', id, bytes);
    return id;
  };
  const tree = async (entries: TreeNode[] | string) => {
    const bytes = typeof entries === 'string' ? Buffer.from(entries) : encodeTree({ nodes: entries });
    const id = repo.blobId(bytes);
    await writer.save('tree', id, bytes);
    return id;
  };
  const root = await tree(await nodes({ blob, tree }));
  await writer.finish();
  const now = new Date().toISOString();
  const summary = { files: 1, dirs: 1, bytes: 1, filesRead: 1, newBlobs: 1, newBytes: 1, skipped: 0 };
  const id = await repo.saveSnapshot({
    time: now,
    host: 'h',
    source: 'web-1:files',
    paths: options.paths ?? ['/'],
    tags: [],
    tree: root,
    summary: { ...summary, startedAt: now, endedAt: now, durationMs: 0 },
    warnings: [],
  });
  return { repo, snapshot: await repo.resolveSnapshot(id) };
}

const base = { mtimeNs: '0', uid: 0, gid: 0 };

/** A file node whose content is one blob of `text`'s length. */
export const forgedFile = (name: string, blob: string, size = 5): TreeNode => ({
  ...base,
  name,
  type: 'file',
  mode: 0o644,
  size,
  content: [blob],
});

export const forgedDir = (name: string, subtree: string): TreeNode => ({
  ...base,
  name,
  type: 'dir',
  mode: 0o755,
  subtree,
});

export const forgedLink = (name: string, target: string): TreeNode => ({
  ...base,
  name,
  type: 'symlink',
  mode: 0o777,
  target,
});
