// What a directory holds, as a restore must give it back: each entry's type, mode, time, size and SHA-256, or a
// symlink's target. Used to freeze a format fixture (scripts/make-format-fixture.ts) and to check it.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface FixtureEntry {
  /** Relative to the restored source directory, '/' separated. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo';
  /** Not for symlinks, whose own mode and time no restore sets. */
  mode?: number;
  mtimeMs?: number;
  size?: number;
  sha256?: string;
  target?: string;
}

/** Every entry under `dir`, as restoring must give it. */
export function describeTree(dir: string): FixtureEntry[] {
  const entries: FixtureEntry[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const relPath = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, relPath);
      const st = lstatSync(full);
      const base = { path: relPath, mode: st.mode & 0o7777, mtimeMs: Math.round(st.mtimeMs) };
      if (st.isDirectory()) {
        entries.push({ ...base, type: 'dir' });
        walk(relPath);
      } else if (st.isSymbolicLink()) entries.push({ path: relPath, type: 'symlink', target: readlinkSync(full) });
      else if (st.isFIFO()) entries.push({ ...base, type: 'fifo' });
      else {
        const bytes = readFileSync(full);
        entries.push({
          ...base,
          type: 'file',
          size: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        });
      }
    }
  };
  walk('');
  return entries;
}
