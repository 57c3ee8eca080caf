'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { audit } from '@/lib/control/audit';
import { makeMetricsToken, metricsTokenMade, revokeMetricsToken } from '@/lib/control/metrics-token';

/** Makes the token /metrics is scraped with, replacing any earlier one; it is shown once. */
export const makeToken = formAction(z.object({}), 'configure', async (_input, user) => {
  const replaced = metricsTokenMade() !== null;
  const token = makeMetricsToken();
  revalidatePath('/settings/metrics');
  audit({
    username: user!.username,
    action: 'make metrics token',
    target: '/metrics',
    ok: true,
    detail: replaced ? 'the earlier token no longer works' : undefined,
  });
  return { ok: true, data: { token }, message: 'Token made: copy it now, it is not shown again.' };
});

/** Revokes the token: /metrics answers nobody until a new one is made. */
export const revokeToken = formAction(
  z.object({ confirm: z.string().max(100).default('') }),
  'configure',
  async ({ confirm }, user) => {
    if (metricsTokenMade() === null) return { ok: false, error: 'There is no token to revoke.' };
    if (confirm !== 'metrics') return { ok: false, error: 'Type metrics to confirm.' };
    revokeMetricsToken();
    revalidatePath('/settings/metrics');
    audit({ username: user!.username, action: 'revoke metrics token', target: '/metrics', ok: true });
    return { ok: true, data: undefined, message: 'Token revoked: /metrics answers nobody.' };
  },
);
