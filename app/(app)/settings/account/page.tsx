import type { Metadata } from 'next';
import { currentSession, requireUser, sessionsOf } from '@/lib/auth/session';

import { ChangePasswordForm, RevokeOwnSession } from './account-forms';
import { LocalTime } from '@/components/time';

export const metadata: Metadata = { title: 'Account' };

export default async function AccountPage() {
  const me = await requireUser();
  const current = await currentSession();
  const sessions = sessionsOf(me.id);
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Your account</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        {me.username} · {me.role}
      </p>
      <section aria-labelledby="password" className="mt-8 rounded-lg border border-border bg-card p-6">
        <h2 id="password" className="mb-4 text-lg font-medium">
          Password
        </h2>
        <ChangePasswordForm />
      </section>
      <section aria-labelledby="sessions" className="mt-8 rounded-lg border border-border bg-card p-6">
        <h2 id="sessions" className="mb-4 text-lg font-medium">
          Where you are signed in
        </h2>
        <ul aria-label="Your sessions" className="grid gap-2 text-sm">
          {sessions.map((s) => (
            <li key={s.id} className="flex flex-wrap items-center gap-2">
              <span>
                since <LocalTime at={s.createdAt} /> from {s.address ?? 'an unknown address'}
                {s.userAgent ? ` · ${s.userAgent.slice(0, 60)}` : ''}
              </span>
              {s.tokenHash === current?.tokenHash ? (
                <span className="text-muted-foreground">(this browser)</span>
              ) : (
                <RevokeOwnSession session={s.id} />
              )}
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}
