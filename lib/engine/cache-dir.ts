// Lifeline's directory on this machine for what it may rebuild at any time: copies staged before a backup reads them
// (backup/staging.ts), and per repository its key hint (repository/key-hint.ts) and a copy of its index files and
// snapshots (repository/metadata-cache.ts). Nothing in it is trusted: each
// use checks what it reads.
import os from 'node:os';
import path from 'node:path';

import { EngineError } from './errors';

/** `$XDG_CACHE_HOME/lifeline`, or `~/.cache/lifeline`: the CLI's default for `--cache-dir`. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || (os.homedir() ? path.join(os.homedir(), '.cache') : '');
  if (!base) throw new EngineError('invalid-argument', 'no cache directory: set --cache-dir, XDG_CACHE_HOME or HOME');
  return path.join(base, 'lifeline');
}

/** A repository's own directory in the cache, or null if its id (read from its config before any key could check
 *  it) is not one and so must not name a path. */
export function repositoryCacheDir(cacheDir: string, repositoryId: string): string | null {
  return /^[0-9a-f]{32}$/.test(repositoryId) ? path.join(cacheDir, 'repositories', repositoryId) : null;
}
