// Which processes have a file open, from /proc (Linux): a database must not be swapped under a live process.
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';

import { decodeBytes, fsPath } from '../byte-names';

export function openHolders(files: string[]): number[] {
  const wanted = new Set<string>();
  for (const f of files) {
    try {
      wanted.add(decodeBytes(realpathSync(fsPath(f), { encoding: 'buffer' })));
    } catch {
      // not there: nobody holds it
    }
  }
  if (wanted.size === 0) return [];
  const holders: number[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(decodeBytes(readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'buffer' })))) {
          holders.push(Number(pid));
          break;
        }
      } catch {
        // the descriptor closed meanwhile
      }
    }
  }
  return holders;
}
