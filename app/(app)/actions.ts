'use server';

import { redirect } from 'next/navigation';

import { currentUser, endSession } from '@/lib/auth/session';
import { audit } from '@/lib/control/audit';

export async function signOut(): Promise<void> {
  const user = await currentUser();
  await endSession();
  if (user) audit({ username: user.username, action: 'sign-out', ok: true });
  redirect('/login');
}
