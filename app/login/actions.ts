'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { startSession } from '@/lib/auth/session';
import { beginAttempt, clearFailures } from '@/lib/auth/throttle';
import { audit } from '@/lib/control/audit';
import { checkCredentials } from '@/lib/control/users';

const signInSchema = z.object({
  username: z.string().trim().min(1, 'Enter your username').max(40),
  password: z.string().min(1, 'Enter your password').max(200),
});

export const signIn = formAction(signInSchema, null, async ({ username, password }) => {
  const wait = beginAttempt(username);
  if (wait > 0) return { ok: false, error: `Too many failed attempts: try again in ${Math.ceil(wait / 1000)} s.` };
  const user = await checkCredentials(username, password);
  if (!user) {
    audit({ username, action: 'sign-in', ok: false });
    return { ok: false, error: 'Wrong username or password.' };
  }
  clearFailures(username);
  await startSession(user.id);
  audit({ username, action: 'sign-in', ok: true });
  redirect('/');
});
