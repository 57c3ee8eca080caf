// A local copy of a repository's index files and snapshots, so that a job reads what is new since the last one and
// not the whole repository again (over the storage API or S3 that is most of an unchanged backup's traffic).
// Content-addressed like the repository: a file is kept under its SHA-256, filled only from bytes that hash to their
// name, checked again on every read (a mismatch is deleted and read from the repository), written by temp-and-rename
// so a crash or a second job at once never leaves half a file. What the repository lists decides what is read: a
// cached file of an object no longer listed is never used, and is removed. So a damaged or stale cache changes only
// speed, never a result. Checks of the repository's health (verify, repair, prune) read the repository itself.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const CACHED_KINDS = ['index', 'snapshots'] as const;
type CachedKind = (typeof CACHED_KINDS)[number];
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
    rmSync(file, { force: true });
    return null;
  }

  /** Keeps bytes read from the repository, if they match their name; a cache that cannot be written only costs
   *  speed. */
  put(kind: CachedKind, id: string, bytes: Buffer): void {
    if (!ID.test(id) || sha256(bytes) !== id) return;
    const dir = path.join(this.dir, kind);
    const temp = path.join(dir, `.${id}.tmp-${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(temp, bytes, { mode: 0o600 });
      renameSync(temp, path.join(dir, id));
    } catch {
      rmSync(temp, { force: true });
    }
  }

  /** Removes the cached objects of a kind the repository no longer lists (superseded indexes, forgotten snapshots),
   *  and unfinished writes of processes that are gone. */
  keepOnly(kind: CachedKind, listed: Set<string>): void {
    let names: string[];
    try {
      names = readdirSync(path.join(this.dir, kind));
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(this.dir, kind, name);
      // Another job may be writing one right now: an unfinished file is left until it is an hour old.
      if (name.includes('.tmp-')) {
        if (stale(file)) rmSync(file, { force: true });
      } else if (!listed.has(name)) rmSync(file, { force: true });
    }
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
