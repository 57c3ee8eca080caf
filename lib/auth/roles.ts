// What each role may do. The server checks these on every action; the UI only hides what a role cannot do.
import type { Role } from '../db/schema';

export const PERMISSIONS = ['view', 'backup', 'restore-elsewhere', 'restore-in-place', 'cancel', 'configure', 'manage-users'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  operator: ['view', 'backup', 'restore-elsewhere', 'cancel'],
  viewer: ['view'],
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}
