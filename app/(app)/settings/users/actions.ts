'use server';

import { eq } from 'drizzle-orm';
import { revalidatePath } from 'next/cache';

import { formAction } from '@/lib/auth/action';
import { db } from '@/lib/db/client';
import { users } from '@/lib/db/schema';
import { audit } from '@/lib/control/audit';
import { createUser, newUserSchema } from '@/lib/control/users';

export const addUser = formAction(newUserSchema, 'manage-users', async (input, user) => {
  if (db().select().from(users).where(eq(users.username, input.username)).get()) {
    return { ok: false, error: 'Check the fields marked below.', fieldErrors: { username: 'This username is taken' } };
  }
  await createUser(input);
  revalidatePath('/settings/users');
  audit({ username: user!.username, action: 'add user', target: `${input.username} (${input.role})`, ok: true });
  return { ok: true, data: undefined, message: `User ${input.username} added as ${input.role}.` };
});
