// A local copy of a repository's index files, snapshots and tree blobs, so that a job reads what is new since the
// last one and not the whole repository again (over the storage API or S3 that is most of an unchanged backup's
// traffic). Content-addressed like the repository: an index file or snapshot is kept under its SHA-256, a tree blob
// sealed as stored, under its blob id; each is filled only from what matches its name (a tree once it opened with
// the key and hashed to its id), checked again on every read (a mismatch is deleted and read from the repository),
// and written by temp-and-rename, so a crash or a second job at once never leaves half a file. What the repository
// lists decides what is read: a cached object the repository no longer lists (or whose blob its index no longer
// has) is never used, and is removed. So a damaged or stale cache changes only speed, never a result. Checks of the
// repository's health (verify, repair, prune) read the repository itself.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

type CachedKind = 'index' | 'snapshots';
const ID = /^[0-9a-f]{64}$/;

export class MetadataCache {
  /** `dir`: this repository's directory in the cache (`<cache>/repositories/<repository id>`). */
  constructor(private readonly dir: string) {}

  /** The cached bytes of `kind/id`, if there and still matching their name. */
  get(kind: CachedKind, id: string): Buffer | null {
    if (!ID.test(id)) return null;
    const file = path.join(this.dir, kind, id);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return null;
    }
    if (sha256(bytes) === id) return bytes;
    remove(file);
    return null;
  }

  /** Keeps bytes read from the repository, if they match their name; a cache that cannot be written only costs
   *  speed. */
  put(kind: CachedKind, id: string, bytes: Buffer): void {
    if (!ID.test(id) || sha256(bytes) !== id) return;
    this.write(path.join(this.dir, kind), id, bytes);
  }

  private write(dir: string, id: string, bytes: Buffer): void {
    const temp = path.join(dir, `.${id}.tmp-${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(temp, bytes, { mode: 0o600 });
      renameSync(temp, path.join(dir, id));
    } catch {
      remove(temp);
    }
  }

  /** A tree blob, sealed as the repository stores it; the caller opens it with the key, which checks it against its
   *  id, and drops it (dropTree) if it does not. */
  async getTree(id: string): Promise<Buffer | null> {
    if (!ID.test(id)) return null;
    // Off the calling thread: a backup reads a tree per directory, and a cold disk would stall its pipeline.
    return readFile(this.treeFile(id)).catch(() => null);
  }

  /** Keeps a sealed tree blob that opened with the key and matched its id. */
  putTree(id: string, sealed: Buffer): void {
    if (!ID.test(id)) return;
    this.write(path.dirname(this.treeFile(id)), id, sealed);
  }

  dropTree(id: string): void {
    if (ID.test(id)) remove(this.treeFile(id));
  }

  /** Removes cached trees whose blobs the index no longer has (after a prune). */
  keepTrees(has: (id: string) => boolean): void {
    const root = path.join(this.dir, 'trees');
    let fanout: string[];
    try {
      fanout = readdirSync(root);
    } catch {
      return;
    }
    for (const sub of fanout) {
      let names: string[];
      try {
        names = readdirSync(path.join(root, sub));
      } catch {
        continue;
      }
      for (const name of names) {
        const file = path.join(root, sub, name);
        if (name.includes('.tmp-') ? stale(file) : !has(name)) remove(file);
      }
    }
  }

  private treeFile(id: string): string {
    return path.join(this.dir, 'trees', id.slice(0, 2), id);
  }

  /** Removes the cached objects of a kind the repository no longer lists (superseded indexes, forgotten snapshots),
   *  and unfinished writes of processes that are gone; how many it removed. */
  keepOnly(kind: CachedKind, listed: Set<string>): number {
    let names: string[];
    try {
      names = readdirSync(path.join(this.dir, kind));
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.dir, kind, name);
      // Another job may be writing one right now: an unfinished file is left until it is an hour old.
      if (name.includes('.tmp-')) {
        if (stale(file)) remove(file);
      } else if (!listed.has(name)) {
        remove(file);
        removed++;
      }
    }
    return removed;
  }
}

/** Removes a cached file; a cache this process may not change only costs speed, never the job. */
function remove(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Left for a process that may.
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An unfinished write older than an hour is one whose process is gone. */
function stale(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > 3600_000;
  } catch {
    return false;
  }
}
