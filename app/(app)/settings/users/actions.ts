'use server';

import { eq, sql } from 'drizzle-orm';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { revokeSession } from '@/lib/auth/session';
import { audit } from '@/lib/control/audit';
import {
  changeRole,
  createUser,
  deleteUser,
  newPasswordSchema,
  newUserSchema,
  setDisabled,
  setPassword,
  type UserChange,
} from '@/lib/control/users';
import { db } from '@/lib/db/client';
import { ROLES, users } from '@/lib/db/schema';

export const addUser = formAction(newUserSchema, 'manage-users', async (input, user) => {
  // Usernames differ by more than case: `Admin` beside `admin` would be one to trick the other with.
  const taken = db()
    .select({ username: users.username })
    .from(users)
    .where(sql`lower(${users.username}) = lower(${input.username})`)
    .get();
  if (taken) {
    return {
      ok: false,
      error: 'Check the fields marked below.',
      fieldErrors: {
        username: taken.username === input.username ? 'This username is taken' : `Taken, as ${taken.username}`,
      },
    };
  }
  await createUser(input);
  revalidatePath('/settings/users');
  audit({ username: user!.username, action: 'add user', target: `${input.username} (${input.role})`, ok: true });
  return { ok: true, data: undefined, message: `User ${input.username} added as ${input.role}.` };
});

const target = z.string().min(1).max(40);

/** Audits an admin's change to a user and says what it did (every change ends that user's sessions). */
function outcome(admin: string, action: string, username: string, result: UserChange, done: string) {
  audit({ username: admin, action, target: username, ok: result.ok, detail: result.ok ? undefined : result.error });
  if (!result.ok) return { ok: false as const, error: result.error };
  revalidatePath('/settings/users');
  return { ok: true as const, data: undefined, message: `${done} Their sessions were ended.` };
}

export const changeUserRole = formAction(
  z.object({ username: target, role: z.enum(ROLES) }),
  'manage-users',
  async ({ username, role }, user) =>
    outcome(
      user!.username,
      `change role to ${role}`,
      username,
      changeRole(username, role),
      `${username} is now ${role}.`,
    ),
);

export const resetUserPassword = formAction(
  z.object({ username: target, password: newPasswordSchema }),
  'manage-users',
  async ({ username, password }, user) =>
    outcome(
      user!.username,
      'reset password',
      username,
      await setPassword(username, password),
      `${username}'s password was reset.`,
    ),
);

export const setUserDisabled = formAction(
  z.object({ username: target, disabled: z.enum(['yes', 'no']) }),
  'manage-users',
  async ({ username, disabled }, user) => {
    const off = disabled === 'yes';
    if (off && username === user!.username) return { ok: false, error: 'You cannot disable yourself.' };
    return outcome(
      user!.username,
      off ? 'disable user' : 'enable user',
      username,
      setDisabled(username, off),
      off ? `${username} is disabled.` : `${username} may sign in again.`,
    );
  },
);

export const removeUser = formAction(
  z.object({ username: target, confirm: z.string().max(40) }),
  'manage-users',
  async ({ username, confirm }, user) => {
    if (confirm !== username)
      return {
        ok: false,
        error: 'Check the fields marked below.',
        fieldErrors: { confirm: `Type ${username} to confirm` },
      };
    if (username === user!.username) return { ok: false, error: 'You cannot remove yourself: ask another admin.' };
    return outcome(user!.username, 'remove user', username, deleteUser(username), `${username} was removed.`);
  },
);

export const revokeUserSession = formAction(
  z.object({ username: target, session: z.string().regex(/^[0-9a-f]{16}$/) }),
  'manage-users',
  async ({ username, session }, user) => {
    const row = db().select({ id: users.id }).from(users).where(eq(users.username, username)).get();
    const revoked = row ? revokeSession(row.id, session) : false;
    audit({ username: user!.username, action: 'revoke session', target: `${username} ${session}`, ok: revoked });
    if (!revoked) return { ok: false, error: 'That session has ended already.' };
    revalidatePath('/settings/users');
    return { ok: true, data: undefined, message: `A session of ${username} was ended.` };
  },
);
