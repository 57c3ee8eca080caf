import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { connection } from 'next/server';

import { AuthCard } from '@/components/auth-card';
import { currentUser } from '@/lib/auth/session';
import { userCount } from '@/lib/control/users';

import { LoginForm } from './login-form';

export const metadata: Metadata = { title: 'Sign in' };

export default async function LoginPage() {
  await connection();
  if (userCount() === 0) redirect('/setup');
  if (await currentUser()) redirect('/');
  return (
    <AuthCard title="Sign in to Lifeline">
      <LoginForm />
    </AuthCard>
  );
}
