'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { clientAddress } from '@/lib/auth/client-address';
import { currentSession, revokeSession } from '@/lib/auth/session';
import { attemptSucceeded, beginAttempt } from '@/lib/auth/throttle';
import { audit } from '@/lib/control/audit';
import { checkCredentials, newPasswordSchema, setPassword } from '@/lib/control/users';

const changePasswordSchema = z
  .object({
    current: z.string().min(1, 'Enter your current password').max(200),
    password: newPasswordSchema,
    confirm: z.string(),
  })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'The passwords differ' });

/** Any signed-in user, for themselves: the current password first; their other sessions end, this one stays. */
export const changeOwnPassword = formAction(changePasswordSchema, 'view', async ({ current, password }, user) => {
  const me = user!;
  // Guessing the current password from a stolen session is throttled like a sign-in.
  const address = await clientAddress();
  const wait = beginAttempt(address, me.username);
  if (wait) return { ok: false, error: `Too many failed attempts: try again in ${Math.ceil(wait.waitMs / 1000)} s.` };
  if (!(await checkCredentials(me.username, current))) {
    audit({ username: me.username, action: 'change own password', ok: false, detail: 'wrong current password' });
    return {
      ok: false,
      error: 'Check the fields marked below.',
      fieldErrors: { current: 'This is not your password' },
    };
  }
  attemptSucceeded(address, me.username);
  const session = await currentSession();
  const result = await setPassword(me.username, password, session?.tokenHash);
  audit({ username: me.username, action: 'change own password', ok: result.ok });
  if (!result.ok) return { ok: false, error: result.error };
  revalidatePath('/settings/account');
  return { ok: true, data: undefined, message: 'Your password was changed; your other sessions were ended.' };
});

export const revokeOwnSession = formAction(
  z.object({ session: z.string().regex(/^[0-9a-f]{16}$/) }),
  'view',
  async ({ session }, user) => {
    const revoked = revokeSession(user!.id, session);
    audit({ username: user!.username, action: 'revoke own session', target: session, ok: revoked });
    if (!revoked) return { ok: false, error: 'That session has ended already.' };
    revalidatePath('/settings/account');
    return { ok: true, data: undefined, message: 'The session was ended.' };
  },
);
