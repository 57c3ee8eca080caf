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
  /** Read whole; its new blobs went out in batches as it was read. */
  | { kind: 'read'; size: number; content: string[] }
  /** The file is a SQLite database: it must be copied consistently instead of read. */
  | { kind: 'sqlite' }
  | { kind: 'error'; message: string; code?: string };

/** New blobs are handed on in batches of about this many sealed bytes while the file is still being read, so that
 *  what a reader holds does not grow with the file's size. */
export const BLOB_BATCH_BYTES = 8 * 1024 * 1024;
/** Sealed bytes a reader on another thread may have handed on and not yet seen stored before it waits. */
export const READER_WINDOW_BYTES = 2 * BLOB_BATCH_BYTES;

/** Blob ids a reader need not seal again: the repository's, and those it has handed on (BlobKeys). */
export interface KnownBlobs {
  has(id: string): boolean;
  add(id: string): void;
}

/**
 * Reads a file: yields its new sealed blobs in batches of about BLOB_BATCH_BYTES as it goes, the last (smaller)
 * one once the whole file is read, and returns its chunk ids. `known` holds the blob ids the repository already has;
 * a batch's ids join it when the caller asks for more (a caller on this thread has stored the batch by then), so
 * the blobs of a file that fails half-way after its last batch are dropped, and no later file counts on them. A
 * caller stops early by not asking for more; the file is closed then too.
 */
export function* readFileInBatches(
  file: string,
  expectedSize: number,
  detectSqlite: boolean,
  keys: ReaderKeys,
  known: KnownBlobs,
): Generator<NewBlob[], FileResult, void> {
  let fd: number;
  try {
    fd = openSync(fsPath(file), 'r');
  } catch (err) {
    return readError(err);
  }
  const chunker = new Chunker(keys.gear, keys.chunker);
  const content: string[] = [];
  let blobs: NewBlob[] = [];
  let batchBytes = 0;
  const fresh = new Set<string>();
  const save = (chunk: Buffer) => {
    const id = blobId(keys.id, chunk);
    content.push(id);
    if (known.has(id) || fresh.has(id)) return;
    fresh.add(id);
    const sealed = encodeBlob(keys.encryption, chunk);
    blobs.push({ id, sealed, rawLength: chunk.length });
    batchBytes += sealed.length;
  };
  let size = 0;
  // One buffer for the whole file (the chunker copies what it keeps), sized to the file where it is small: a 4 MiB
  // buffer per small file is garbage the collector pays for.
  const buf = Buffer.allocUnsafe(Math.max(Math.min(READ_BYTES, expectedSize + 1), MIN_READ_BYTES));
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, size);
        if (n === 0) break;
        if (detectSqlite && size === 0 && hasSqliteHeader(buf.subarray(0, n))) return { kind: 'sqlite' };
        size += n;
        chunker.push(buf.subarray(0, n), save);
      } catch (err) {
        return readError(err);
      }
      if (batchBytes >= BLOB_BATCH_BYTES) {
        const batch = blobs;
        blobs = [];
        batchBytes = 0;
        yield batch;
        for (const b of batch) {
          known.add(b.id);
          fresh.delete(b.id);
        }
      }
    }
    try {
      chunker.finish(save);
    } catch (err) {
      return readError(err);
    }
  } finally {
    closeSync(fd);
  }
  if (blobs.length > 0) {
    yield blobs;
    for (const b of blobs) known.add(b.id);
  }
  return { kind: 'read', size, content };
}

function readError(err: unknown): FileResult {
  return { kind: 'error', message: (err as Error).message, code: (err as NodeJS.ErrnoException).code };
}
