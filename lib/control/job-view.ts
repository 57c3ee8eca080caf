// What a role may see of a job: viewers see progress and outcome, not where a restore writes or what it picked.
import { can } from '../auth/roles';
import type { Job, Role } from '../db/schema';

export function jobForRole(job: Job, role: Role): Job {
  return can(role, 'restore-elsewhere') ? job : { ...job, params: null };
}
