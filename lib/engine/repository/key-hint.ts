// Which key file opened a repository last on this machine, so that the next open tries it first and pays one key
// derivation (scrypt, about half a second at the strong cost) instead of one per key file. A hint is only an order:
// every key is still checked by its own authenticated encryption, so a wrong, stale or forged hint costs one extra
// derivation and can never open a repository with a wrong key. Kept in the cache directory
// (`<cache>/repositories/<repository id>/key-hint`), never in the repository.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { writeFileAtomic } from '../atomic-file';
import { repositoryCacheDir } from '../cache-dir';

const KEY_ID = /^[0-9a-f]{64}$/;

function hintFile(cacheDir: string, repositoryId: string): string | null {
  const dir = repositoryCacheDir(cacheDir, repositoryId);
  return dir && path.join(dir, 'key-hint');
}

/** The key id to try first, or null (no hint, or one that is not a key id). */
export function readKeyHint(cacheDir: string, repositoryId: string): string | null {
  const file = hintFile(cacheDir, repositoryId);
  if (!file) return null;
  try {
    const hint = readFileSync(file, 'utf8').trim();
    return KEY_ID.test(hint) ? hint : null;
  } catch {
    return null;
  }
}

/** Remembers the key that opened the repository; a cache that cannot be written only costs speed. */
export async function writeKeyHint(cacheDir: string, repositoryId: string, keyId: string): Promise<void> {
  const file = hintFile(cacheDir, repositoryId);
  if (!file || !KEY_ID.test(keyId)) return;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, `${keyId}\n`);
  } catch {
    // Read-only or full: the next open tries every key, as without a cache.
  }
}
