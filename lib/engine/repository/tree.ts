// Directory trees as blobs: one JSON blob per directory, so an unchanged directory is one shared blob.
import { decodeBytes, displayPath, encodeBytes, hasRawBytes } from '../byte-names';
import { EngineError } from '../errors';
import type { Xattr } from '../xattrs';

export const NODE_TYPES = ['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface TreeNode {
  /** The entry's name as byte-names.ts decodes it: bytes that are not UTF-8 stand as escapes. Stored as `name`,
   *  plus `nameBytes` (feature `byte-names`) when it is not UTF-8. */
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
  /** Symbolic links: where the link points, decoded like `name` (stored as `target`, plus `targetBytes`). */
  target?: string;
  /** Extended attributes, POSIX ACLs among them (feature `xattrs`), sorted by name; absent when there are none.
   *  A name is decoded like `name` (stored as `name`, plus `nameBytes`). */
  xattrs?: Xattr[];
}

export interface Tree {
  nodes: TreeNode[];
}

/** The feature that lets names and link targets be any bytes, not only UTF-8. */
export const BYTE_NAMES_FEATURE = 'byte-names';

/** The feature that lets nodes carry extended attributes. */
export const XATTRS_FEATURE = 'xattrs';

/** Whether a node needs the `byte-names` feature to be stored. */
export function needsByteNames(node: Pick<TreeNode, 'name' | 'target' | 'xattrs'>): boolean {
  return (
    hasRawBytes(node.name) ||
    (node.target !== undefined && hasRawBytes(node.target)) ||
    (node.xattrs?.some((x) => hasRawBytes(x.name)) ?? false)
  );
}

/** Nodes sorted by the bytes of their names. (Trees written before December 2026 sorted by JavaScript string order,
 *  UTF-16 code units, which differs for names beyond U+FFFF; readers take either, and nothing depends on it.) A
 *  name or target that is not UTF-8 is stored as its text with U+FFFD for each such byte, and in full, base64, in
 *  `nameBytes` or `targetBytes`. */
export function encodeTree(tree: Tree): Buffer {
  const keyed = tree.nodes.map((node) => ({ node, key: encodeBytes(node.name) }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const nodes = keyed.map(({ node, key }) => {
    if (!needsByteNames(node)) return node;
    const stored: Record<string, unknown> = { ...node };
    if (hasRawBytes(node.name)) {
      stored.name = key.toString('utf8');
      stored.nameBytes = key.toString('base64');
    }
    if (node.target !== undefined && hasRawBytes(node.target)) {
      const target = encodeBytes(node.target);
      stored.target = target.toString('utf8');
      stored.targetBytes = target.toString('base64');
    }
    if (node.xattrs)
      stored.xattrs = node.xattrs.map((x) => {
        if (!hasRawBytes(x.name)) return x;
        const name = encodeBytes(x.name);
        return { name: name.toString('utf8'), nameBytes: name.toString('base64'), value: x.value };
      });
    return stored;
  });
  return Buffer.from(JSON.stringify({ nodes }));
}

/** Parses a tree and refuses one a restore must not follow: an entry name that is empty, `.` or `..`, or holds
 *  `/` or NUL (it would write outside its directory), or a name given twice (a link, then a directory through
 *  it). Trees come from backups, and a node writes the backups of its own sources. */
export function decodeTree(bytes: Buffer): Tree {
  const tree = JSON.parse(bytes.toString('utf8')) as Tree;
  if (!Array.isArray(tree.nodes)) throw new Error('tree has no nodes');
  const seen = new Set<string>();
  for (const node of tree.nodes as (TreeNode & { nameBytes?: unknown; targetBytes?: unknown })[]) {
    if (node?.nameBytes !== undefined) {
      node.name = decodeBytes(base64Field(node.nameBytes, 'nameBytes'));
      delete node.nameBytes;
    } else if (typeof node?.name === 'string' && hasRawBytes(node.name))
      throw new EngineError('corrupt', `it has an entry name that is not Unicode text: ${JSON.stringify(node.name)}`);
    if (node?.targetBytes !== undefined) {
      node.target = decodeBytes(base64Field(node.targetBytes, 'targetBytes'));
      delete node.targetBytes;
    } else if (typeof node?.target === 'string' && hasRawBytes(node.target))
      throw new EngineError('corrupt', `it has a link target that is not Unicode text: ${JSON.stringify(node.target)}`);
    if (node?.xattrs !== undefined) node.xattrs = decodeXattrs(node.xattrs);
    const name: unknown = node?.name;
    if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\0]/.test(name))
      throw new EngineError(
        'corrupt',
        `it has an entry named ${JSON.stringify(name)}, which a restore would not write`,
      );
    if (seen.has(name)) throw new EngineError('corrupt', `it names ${displayPath(name)} twice`);
    seen.add(name);
  }
  return tree;
}

/** A node's extended attributes as a restore may set them: each with a name (not empty, no NUL) and a base64
 *  value, none named twice. */
function decodeXattrs(stored: unknown): Xattr[] {
  if (!Array.isArray(stored)) throw new EngineError('corrupt', 'it has extended attributes that are not a list');
  const seen = new Set<string>();
  return stored.map((x: { name?: unknown; nameBytes?: unknown; value?: unknown } | null) => {
    let name = x?.name;
    if (x?.nameBytes !== undefined) name = decodeBytes(base64Field(x.nameBytes, 'nameBytes'));
    else if (typeof name === 'string' && hasRawBytes(name)) name = undefined;
    if (typeof name !== 'string' || name === '' || name.includes('\0') || seen.has(name))
      throw new EngineError('corrupt', `it has an extended attribute named ${JSON.stringify(x?.name)}`);
    seen.add(name);
    base64Field(x?.value, 'extended attribute value');
    return { name, value: x!.value as string };
  });
}

function base64Field(value: unknown, field: string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : null;
  if (!bytes || bytes.toString('base64') !== value)
    throw new EngineError('corrupt', `it has a ${field} that is not base64: ${JSON.stringify(value)}`);
  return bytes;
}
