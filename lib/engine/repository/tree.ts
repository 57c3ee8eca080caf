// Directory trees as blobs: one JSON blob per directory, so an unchanged directory is one shared blob.
import { EngineError } from '../errors';

export const NODE_TYPES = ['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface TreeNode {
  name: string;
  type: NodeType;
  /** Permission bits and set-id/sticky bits (mode & 0o7777). */
  mode: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string (beyond a double's precision). */
  mtimeNs: string;
  uid: number;
  gid: number;
  /** Files: the bytes of content. */
  size?: number;
  /** Files: status-change time in nanoseconds, as a decimal string (feature `ctime`): a rewrite in place changes
   *  it even when size and mtime are put back. */
  ctimeNs?: string;
  /** Files: device and inode at backup time, to find unchanged files next time. */
  dev?: number;
  inode?: number;
  /** Files: the data blobs that make up the content, in order. */
  content?: string[];
  /** Files: set when the content is a consistent copy of a live SQLite database. */
  sqlite?: true;
  /** Directories: the tree blob that lists the entries. */
  subtree?: string;
  /** Symbolic links: where the link points. */
  target?: string;
}

export interface Tree {
  nodes: TreeNode[];
}

/** Nodes sorted by the bytes of their UTF-8 names. (Trees written before this sorted by JavaScript string order,
 *  UTF-16 code units, which differs for names beyond U+FFFF; readers take either, and nothing depends on it.) */
export function encodeTree(tree: Tree): Buffer {
  const nodes = [...tree.nodes].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  return Buffer.from(JSON.stringify({ nodes }));
}

/** Parses a tree and refuses one a restore must not follow: an entry name that is empty, `.` or `..`, or holds
 *  `/` or NUL (it would write outside its directory), or a name given twice (a link, then a directory through
 *  it). Trees come from backups, and a node writes the backups of its own sources. */
export function decodeTree(bytes: Buffer): Tree {
  const tree = JSON.parse(bytes.toString('utf8')) as Tree;
  if (!Array.isArray(tree.nodes)) throw new Error('tree has no nodes');
  const seen = new Set<string>();
  for (const node of tree.nodes) {
    const name: unknown = node?.name;
    if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\0]/.test(name))
      throw new EngineError(
        'corrupt',
        `it has an entry named ${JSON.stringify(name)}, which a restore would not write`,
      );
    if (seen.has(name)) throw new EngineError('corrupt', `it names ${name} twice`);
    seen.add(name);
  }
  return tree;
}
