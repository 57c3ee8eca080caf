// The heavy half of a backup, for one file: read, chunk, hash, and compress and seal each chunk the repository
// does not have yet. Synchronous and self-contained so that it runs the same inline or in a worker thread.
import { closeSync, openSync, readSync } from 'node:fs';

import { fsPath } from '../byte-names';
import { encodeBlob } from '../repository/blob-codec';
import { Chunker, type ChunkerParams } from '../repository/chunker';
import { blobId } from '../repository/crypto';
import { hasSqliteHeader } from '../sources/sqlite-file';

const READ_BYTES = 4 * 1024 * 1024;
const MIN_READ_BYTES = 64 * 1024;

export interface ReaderKeys {
  encryption: Buffer;
  id: Buffer;
  gear: Int32Array;
  chunker: ChunkerParams;
}

export interface NewBlob {
  id: string;
  sealed: Uint8Array;
  rawLength: number;
}

export type FileResult =
  | { kind: 'read'; size: number; content: string[]; blobs: NewBlob[] }
  /** The file is a SQLite database: it must be copied consistently instead of read. */
  | { kind: 'sqlite' }
  | { kind: 'error'; message: string; code?: string };

/** `known` holds the blob ids the repository already has; ids encoded here are added to it. */
export function readFile(
  file: string,
  expectedSize: number,
  detectSqlite: boolean,
  keys: ReaderKeys,
  known: Set<string>,
): FileResult {
  let fd: number;
  try {
    fd = openSync(fsPath(file), 'r');
  } catch (err) {
    return { kind: 'error', message: (err as Error).message, code: (err as NodeJS.ErrnoException).code };
  }
  const chunker = new Chunker(keys.gear, keys.chunker);
  const content: string[] = [];
  const blobs: NewBlob[] = [];
  // New ids join `known` only once the whole file is read: the blobs of a file that fails half-way are dropped,
  // and no later file may count on them.
  const fresh = new Set<string>();
  const save = (chunk: Buffer) => {
    const id = blobId(keys.id, chunk);
    content.push(id);
    if (known.has(id) || fresh.has(id)) return;
    fresh.add(id);
    blobs.push({ id, sealed: encodeBlob(keys.encryption, chunk), rawLength: chunk.length });
  };
  let size = 0;
  try {
    for (;;) {
      // Sized to the file where it is small: a 4 MiB buffer per small file is garbage the collector pays for.
      const want = Math.max(Math.min(READ_BYTES, expectedSize - size + 1), MIN_READ_BYTES);
      const buf = Buffer.allocUnsafe(want);
      const n = readSync(fd, buf, 0, want, size);
      if (n === 0) break;
      if (detectSqlite && size === 0 && hasSqliteHeader(buf.subarray(0, n))) return { kind: 'sqlite' };
      size += n;
      chunker.push(buf.subarray(0, n), save);
    }
    chunker.finish(save);
  } catch (err) {
    return { kind: 'error', message: (err as Error).message, code: (err as NodeJS.ErrnoException).code };
  } finally {
    closeSync(fd);
  }
  for (const id of fresh) known.add(id);
  return { kind: 'read', size, content, blobs };
}
