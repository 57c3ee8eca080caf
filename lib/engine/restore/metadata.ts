// Restoring what a tree node records about an entry: owner (as root), mode and modification time; and the
// temporary names entries are written under before they take their own.
import { randomBytes } from 'node:crypto';
import { chmodSync, fchmodSync, fchownSync, futimesSync, lchownSync, lstatSync, lutimesSync, rmSync } from 'node:fs';
import path from 'node:path';

import { fsPath } from '../byte-names';
import type { TreeNode } from '../repository/tree';

const asRoot = process.getuid?.() === 0;

function mtimeSeconds(node: TreeNode): number {
  return Number(BigInt(node.mtimeNs) / 1000n) / 1e6;
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
