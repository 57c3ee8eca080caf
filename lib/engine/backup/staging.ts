// Where a backup stages what it must copy before it reads it (a consistent copy of a live SQLite database): a
// directory of Lifeline's own on this machine, never the system's temporary directory, which may be shared,
// RAM-backed or cleaned by others. The directory is 0700 and each copy 0600; a backup killed before it cleaned up
// leaves its copy there, and the next backup on this machine removes it.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { EngineError } from '../errors';

export interface Staging {
  dir: string;
  remove(): void;
}

/** A staging directory of this backup's own under `cacheDir/staging`, after removing those of backups whose
 *  process is gone. */
export function openStaging(cacheDir: string): Staging {
  const root = path.join(cacheDir, 'staging');
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    chmodSync(root, 0o700);
  } catch (err) {
    throw new EngineError('invalid-argument', `cannot use ${root} to stage copies: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Only this host's leftovers: a cache directory may be shared (a network home directory), and another host's
  // process ids mean nothing here.
  const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '_');
  for (const name of readdirSync(root)) {
    const match = /^backup-(.+)-(\d+)-[^-]+$/.exec(name);
    if (match && match[1] === host && !alive(Number(match[2])))
      rmSync(path.join(root, name), { recursive: true, force: true });
  }
  // mkdtemp creates it 0700.
  const dir = mkdtempSync(path.join(root, `backup-${host}-${process.pid}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
