'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { audit } from '@/lib/control/audit';
import { acknowledgeRecoveryKit } from '@/lib/control/recovery-kit';

export const acknowledge = formAction<z.ZodObject, undefined>(z.object({}), 'configure', async (_input, user) => {
  acknowledgeRecoveryKit();
  audit({ username: user!.username, action: 'recovery kit saved', ok: true });
  redirect('/');
});
