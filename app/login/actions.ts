'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { startSession } from '@/lib/auth/session';
import { clientAddress } from '@/lib/auth/client-address';
import { HashingBusy } from '@/lib/auth/password';
import { attemptSucceeded, beginAttempt } from '@/lib/auth/throttle';
import { audit } from '@/lib/control/audit';
import { checkCredentials, userExists } from '@/lib/control/users';

const signInSchema = z.object({
  username: z.string().trim().min(1, 'Enter your username').max(40),
  password: z.string().min(1, 'Enter your password').max(200),
});

export const signIn = formAction(signInSchema, null, async ({ username, password }) => {
  const address = await clientAddress();
  const wait = beginAttempt(address, username);
  if (wait)
    return {
      ok: false,
      error:
        wait.scope === 'user'
          ? `Too many failed attempts for this username from your address: try again in ${Math.ceil(wait.waitMs / 1000)} s.`
          : `Too many failed sign-ins from your address: try again in ${Math.ceil(wait.waitMs / 1000)} s.`,
    };
  let user;
  try {
    user = await checkCredentials(username, password);
  } catch (err) {
    if (err instanceof HashingBusy)
      return { ok: false, error: 'The server is busy with other sign-ins: try again in a moment.' };
    throw err;
  }
  if (!user) {
    // A name that is no user's may be a password typed in the wrong field: it is not written down.
    audit(
      userExists(username)
        ? { username, action: 'sign-in', ok: false }
        : { username: null, action: 'sign-in', ok: false, detail: 'an unknown username' },
    );
    return { ok: false, error: 'Wrong username or password.' };
  }
  attemptSucceeded(address, username);
  await startSession(user.id);
  audit({ username, action: 'sign-in', ok: true });
  redirect('/');
});
