// What runs on this machine, read from /proc: a zombie (killed, not yet reaped by its parent, which may be stopped
// or gone) no longer runs, though `kill(pid, 0)` still finds it.
import { readdirSync, readFileSync } from 'node:fs';

/** A process's state letter and process group, or null once it is gone. */
function stat(pid: number): { state: string; pgid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], pgid: Number(fields[2]) };
  } catch {
    return null;
  }
}

/** Whether `pid` still runs (a zombie does not). */
export function runs(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== 'Z';
}

/** Every process of the group `pgid` that still runs. */
export function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const s = stat(pid);
      return s !== null && s.state !== 'Z' && s.pgid === pgid;
    });
}

/** The processes whose parent is `pid` and whose command line contains `marker`. */
export function childrenOf(pid: number, marker: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((child) => {
      try {
        const text = readFileSync(`/proc/${child}/stat`, 'utf8');
        const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === pid && readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
}

/** The processes still running whose command line contains `marker` (a directory a server gave its children). */
export function processesNaming(marker: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return pid !== process.pid && runs(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
}
