// What an agent remembers across restarts: its role and epoch (so a stale promotion is refused), the data it
// holds, and the pid of a service it started (so a service left running by a dead agent is stopped, not doubled).
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';

import { writeFileAtomic } from '../atomic-file';
import type { EtcdSettings } from './agent-config';
import type { Role } from './agent-protocol';

export interface PersistedState {
  role: Role;
  epoch: number;
  groupId: string | null;
  snapshot: string | null;
  /** The ship last applied here, while the data directory's other paths are still as that apply left them (null
   *  once this node served, or while an apply is under way): the next apply may then change only what changed. */
  appliedSnapshot: string | null;
  /** With log replication: the time of the other data paths' last ship or apply; else of all the data. */
  dataTime: number | null;
  /** With log replication: every transaction the primary had committed by this time is in this node's databases
   *  (as last saved: the copies on disk are at least that new). */
  logTime: number | null;
  servicePid: number | null;
  /** Set when this node stops being primary: its data may hold writes that never shipped, so the next apply
   *  keeps the files it replaces. */
  keepNextReplaced: boolean;
  /** SHA-256 (hex) of secrets the control plane revoked when it rotated this node's credentials: requests signed
   *  with one are refused, even if a config holding it is put back. */
  revokedSecrets: string[];
  /** Where the group's coordination on etcd is, once the control plane moved this node there (POST
   *  /v1/coordination): from then on the leader key decides this node's role, also after a restart. */
  etcd: EtcdSettings | null;
}

const INITIAL: PersistedState = {
  role: 'standby',
  epoch: 0,
  groupId: null,
  snapshot: null,
  appliedSnapshot: null,
  dataTime: null,
  logTime: null,
  servicePid: null,
  keepNextReplaced: false,
  revokedSecrets: [],
  etcd: null,
};

export function readState(stateDir: string): PersistedState {
  try {
    return {
      ...INITIAL,
      ...(JSON.parse(readFileSync(path.join(stateDir, 'agent-state.json'), 'utf8')) as Partial<PersistedState>),
    };
  } catch {
    return { ...INITIAL };
  }
}

/** Written to a temporary file, fsynced and renamed: a crash leaves the old state or the new, never half. */
export async function writeState(stateDir: string, state: PersistedState): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path.join(stateDir, 'agent-state.json'), JSON.stringify(state));
}

/** Stops a service process that a previous agent started and left behind; it holds no lease any more. Only if
 *  that pid still runs the service's command: after a reboot the number may belong to another process. */
export async function stopLeftover(pid: number | null, argv: string[]): Promise<void> {
  if (!pid) return;
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join('\0') !== argv.join('\0')) return;
  } catch {
    return;
  }
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  // Its whole process group (the supervisor starts a service as the leader of one), or the process alone.
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // Gone.
      }
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  signal('SIGKILL');
}
