'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { startSession } from '@/lib/auth/session';
import { audit } from '@/lib/control/audit';
import { clientAddress } from '@/lib/auth/client-address';
import { beginSetupAttempt } from '@/lib/auth/throttle';
import { createFirstAdmin, newPasswordSchema, userCount, usernameSchema } from '@/lib/control/users';

const setupSchema = z
  .object({ username: usernameSchema, password: newPasswordSchema, confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'The passwords differ' });

export const createAdmin = formAction(setupSchema, null, async ({ username, password }) => {
  // Closed once there is a user, before anything is hashed; and counted per address while open.
  if (userCount() > 0) return { ok: false, error: 'Lifeline is set up already: sign in instead.' };
  const wait = beginSetupAttempt(await clientAddress());
  if (wait > 0)
    return { ok: false, error: `Too many attempts from your address: try again in ${Math.ceil(wait / 1000)} s.` };
  const user = await createFirstAdmin(username, password);
  // Open only while no user exists: afterwards this action changes nothing.
  if (!user) return { ok: false, error: 'Lifeline is set up already: sign in instead.' };
  audit({ username, action: 'setup: first admin created', ok: true });
  await startSession(user.id);
  redirect('/');
});
