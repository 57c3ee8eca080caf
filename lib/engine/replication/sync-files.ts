// Small synchronous file steps that replication takes on the agent's data thread: reads at an offset, and writes
// that are on disk before they return (a synced file, an index swapped in by rename, its directory synced); and a
// large copy made off that thread, in steps.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

/** Up to `length` bytes of `file` from `offset` (fewer at its end; all the rest where `length` is not given). */
export function readRange(file: string | number, offset: number, length?: number): Buffer {
  const fd = typeof file === 'number' ? file : openSync(file, 'r');
  try {
    const want = Math.max(0, length ?? fstatSync(fd).size - offset);
    const buf = Buffer.alloc(want);
    let done = 0;
    while (done < want) {
      const n = readSync(fd, buf, done, want - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    if (typeof file !== 'number') closeSync(fd);
  }
}

/** How much of a file the steps below hold in memory at once. */
const CHUNK_BYTES = 8 * 2 ** 20;

/** Copies the first `length` bytes of `source` to a new file `dest` (mode 0600), a chunk at a time, synced. Throws
 *  if the source is shorter. */
export function copyPrefix(source: string, dest: string, length: number): void {
  const from = openSync(source, 'r');
  try {
    const to = openSync(dest, 'w', 0o600);
    try {
      for (let done = 0; done < length; ) {
        const chunk = readRange(from, done, Math.min(CHUNK_BYTES, length - done));
        if (chunk.length === 0) throw new Error(`${source} is shorter than ${length} bytes`);
        writeSync(to, chunk, 0, chunk.length, done);
        done += chunk.length;
      }
      fsyncSync(to);
    } finally {
      closeSync(to);
    }
  } finally {
    closeSync(from);
  }
}

/** How much of a file copyInSteps writes before it puts it on disk. */
const STEP_BYTES = 64 * 2 ** 20;

/** Copies `source` to a new file `dest` (mode 0600) off the calling thread (the kernel's thread pool), putting each
 *  STEP_BYTES on disk before the next and the whole at the end: a large copy never piles up so much unwritten data
 *  that other files' syncs (the service's, the frame store's) wait behind it. Stops with an error once `given up`
 *  says so. */
export async function copyInSteps(source: string, dest: string, givenUp: () => boolean): Promise<void> {
  const from = await open(source, 'r');
  try {
    const to = await open(dest, 'w', 0o600);
    try {
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      let unsynced = 0;
      for (let done = 0; ; ) {
        if (givenUp()) throw new Error('given up');
        const { bytesRead } = await from.read(buf, 0, buf.length, done);
        if (bytesRead === 0) break;
        for (let written = 0; written < bytesRead; ) {
          const { bytesWritten } = await to.write(buf, written, bytesRead - written, done + written);
          written += bytesWritten;
        }
        done += bytesRead;
        unsynced += bytesRead;
        if (unsynced >= STEP_BYTES) {
          await to.datasync();
          unsynced = 0;
        }
      }
      await to.sync();
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}

/** Calls `each` with the bytes of `file` (or an open descriptor) from `offset` on, `chunkBytes` at a time (the last
 *  chunk shorter), until the end or until `each` returns false. */
export function readChunks(
  file: string | number,
  offset: number,
  chunkBytes: number,
  each: (bytes: Buffer, at: number) => boolean,
): void {
  const fd = typeof file === 'number' ? file : openSync(file, 'r');
  try {
    for (let at = offset; ; ) {
      const bytes = readRange(fd, at, chunkBytes);
      if (bytes.length === 0 || !each(bytes, at) || bytes.length < chunkBytes) return;
      at += bytes.length;
    }
  } finally {
    if (typeof file !== 'number') closeSync(fd);
  }
}

export function syncPath(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` with `text` as one rename, synced, its directory too: a crash leaves the old or the new. */
export function replaceFileSync(file: string, text: string): void {
  const staged = `${file}.tmp`;
  const fd = openSync(staged, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(staged, file);
  syncPath(path.dirname(file));
}
