// What each role may do. The server checks these on every action; the UI only hides what a role cannot do.
import type { Role } from '../db/schema';

export const PERMISSIONS = [
  'view',
  'backup',
  'restore-elsewhere',
  'restore-in-place',
  'cancel',
  'failover',
  'configure',
  'manage-users',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  // Operators run switchovers and drills (and the demo's "Fail primary"); registering nodes is configuration.
  operator: ['view', 'backup', 'restore-elsewhere', 'cancel', 'failover'],
  viewer: ['view'],
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}
