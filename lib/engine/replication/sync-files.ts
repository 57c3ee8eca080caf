// Small synchronous file steps that replication takes on the agent's data thread: reads at an offset, and writes
// that are on disk before they return (a synced file, an index swapped in by rename, its directory synced).
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
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
