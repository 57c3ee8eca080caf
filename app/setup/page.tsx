import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { connection } from 'next/server';

import { AuthCard } from '@/components/auth-card';
import { userCount } from '@/lib/control/users';

import { SetupForm } from './setup-form';

export const metadata: Metadata = { title: 'Set up' };

export default async function SetupPage() {
  await connection();
  if (userCount() > 0) redirect('/login');
  return (
    <AuthCard title="Set up Lifeline" subtitle="Create the first administrator. This page closes once it exists.">
      <SetupForm />
    </AuthCard>
  );
}
