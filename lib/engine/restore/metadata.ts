// Restoring what a tree node records about an entry: owner (as root), mode, modification time and extended
// attributes; and the temporary names entries are written under before they take their own.
import { randomBytes } from 'node:crypto';
import { chmodSync, fchmodSync, fchownSync, futimesSync, lchownSync, lstatSync, lutimesSync, rmSync } from 'node:fs';
import path from 'node:path';

import { fsPath } from '../byte-names';
import type { TreeNode } from '../repository/tree';
import { writeXattrs } from '../xattrs';

const asRoot = process.getuid?.() === 0;

/** The time for Node's utimes calls, in seconds. They keep microseconds, which libuv finds by multiplying by 10^6
 *  and cutting off: as a double, 1254321637.252389 is 1254321637.25238899…, which would lose its last microsecond.
 *  Half a microsecond more lands inside the right one. */
function mtimeSeconds(node: TreeNode): number {
  const micros = BigInt(node.mtimeNs) / 1000n;
  return micros >= 0n ? (Number(micros) + 0.5) / 1e6 : Number(micros) / 1e6;
}

/** By path; a symbolic link's own times and owner, never its target's. `beforeMode` runs after the owner is set
 *  and before the mode: where extended attributes go (a change of owner clears a file capability, and without root
 *  a user attribute needs write permission, which a read-only mode takes away). */
export function applyMetadata(file: string, node: TreeNode, beforeMode?: () => void): void {
  const at = fsPath(file);
  if (asRoot) bestEffort(() => lchownSync(at, node.uid, node.gid));
  beforeMode?.();
  if (node.type !== 'symlink') chmodSync(at, node.mode);
  const seconds = mtimeSeconds(node);
  lutimesSync(at, seconds, seconds);
}

/** On an open file, before it takes its final name; `beforeMode` as for applyMetadata. */
export function applyMetadataToFd(fd: number, node: TreeNode, beforeMode?: () => void): void {
  if (asRoot) bestEffort(() => fchownSync(fd, node.uid, node.gid));
  beforeMode?.();
  fchmodSync(fd, node.mode);
  const seconds = mtimeSeconds(node);
  futimesSync(fd, seconds, seconds);
}

/** Sets the node's extended attributes (an access ACL among them: the mode set after it agrees with its mask) on
 *  `at`, never through a link; returns what the target refused, said in one line, or null. */
export function applyXattrs(at: string, node: TreeNode): string | null {
  if (!node.xattrs?.length) return null;
  const refused = writeXattrs(at, node.xattrs);
  if (refused.length === 0) return null;
  return `restored without ${refused.length === 1 ? 'an extended attribute' : `${refused.length} extended attributes`}, which the target refused: ${refused.map((r) => `${r.name} (${r.why})`).join(', ')}`;
}

/** Random once per process, numbered within it: no two temporary names of this process meet, and another
 *  process's rarely (a file is created with O_EXCL, so one that does meet is never written through). */
const TEMP_PREFIX = `.lifeline-restore-${randomBytes(6).toString('hex')}-`;
let tempCount = 0;

/** A temporary name beside `destination`, in the same directory (a rename from it is atomic), of its own length:
 *  one derived from the destination's name could pass the file system's 255-byte limit. */
export function tempBeside(destination: string): string {
  return path.join(path.dirname(destination), `${TEMP_PREFIX}${(tempCount++).toString(36)}`);
}

/** A file or link takes the place of a directory only by removing it; over anything else rename replaces it. */
export function removeIfDirectory(destination: string): void {
  const at = fsPath(destination);
  if (lstatSync(at, { throwIfNoEntry: false })?.isDirectory()) rmSync(at, { recursive: true, force: true });
}

function bestEffort(change: () => void): void {
  try {
    change();
  } catch {
    // ownership is best effort: the restore does not fail for lack of it
  }
}
