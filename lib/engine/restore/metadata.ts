// Restoring what a tree node records about an entry: owner (as root), mode and modification time; and the
// temporary names entries are written under before they take their own.
import { randomBytes } from 'node:crypto';
import { chmodSync, fchmodSync, fchownSync, futimesSync, lchownSync, lstatSync, lutimesSync, rmSync } from 'node:fs';
import path from 'node:path';

import { fsPath } from '../byte-names';
import type { TreeNode } from '../repository/tree';

const asRoot = process.getuid?.() === 0;

/** The time for Node's utimes calls, in seconds. They keep microseconds, which libuv finds by multiplying by 10^6
 *  and cutting off: as a double, 1254321637.252389 is 1254321637.25238899…, which would lose its last microsecond.
 *  Half a microsecond more lands inside the right one. */
function mtimeSeconds(node: TreeNode): number {
  const micros = BigInt(node.mtimeNs) / 1000n;
  return micros >= 0n ? (Number(micros) + 0.5) / 1e6 : Number(micros) / 1e6;
}

/** By path; a symbolic link's own times and owner, never its target's. */
export function applyMetadata(file: string, node: TreeNode): void {
  const at = fsPath(file);
  if (asRoot) bestEffort(() => lchownSync(at, node.uid, node.gid));
  if (node.type !== 'symlink') chmodSync(at, node.mode);
  const seconds = mtimeSeconds(node);
  lutimesSync(at, seconds, seconds);
}

/** On an open file, before it takes its final name. */
export function applyMetadataToFd(fd: number, node: TreeNode): void {
  if (asRoot) bestEffort(() => fchownSync(fd, node.uid, node.gid));
  fchmodSync(fd, node.mode);
  const seconds = mtimeSeconds(node);
  futimesSync(fd, seconds, seconds);
}

/** A temporary name beside `destination`, in the same directory (a rename from it is atomic), of its own length:
 *  one derived from the destination's name could pass the file system's 255-byte limit. */
export function tempBeside(destination: string): string {
  return path.join(path.dirname(destination), `.lifeline-restore-${randomBytes(6).toString('hex')}`);
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
