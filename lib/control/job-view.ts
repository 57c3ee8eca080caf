// What a role may see of a job: viewers see progress and outcome, not where a restore writes or what it picked
// (its params, its log).
import { can } from '../auth/roles';
import type { Job, Role } from '../db/schema';

export function jobForRole(job: Job, role: Role): Job {
  return can(role, 'restore-elsewhere') ? job : { ...job, params: null };
}

/** Whether the role may read the log of a job of this kind: a restore's names its target and the paths it picked. */
export function jobLogForRole(kind: Job['kind'], role: Role): boolean {
  return kind !== 'restore' || can(role, 'restore-elsewhere');
}
