import type { Metadata } from 'next';
import { asc } from 'drizzle-orm';

import { requireUser, sessionsOf } from '@/lib/auth/session';
import { db } from '@/lib/db/client';
import { users } from '@/lib/db/schema';

import { AddUserForm } from './add-user-form';
import { UserControls } from './user-controls';
import { LocalTime } from '@/components/time';

export const metadata: Metadata = { title: 'Users' };

export default async function UsersPage() {
  const me = await requireUser('manage-users');
  const list = db()
    .select({
      id: users.id,
      username: users.username,
      role: users.role,
      disabled: users.disabled,
      createdAt: users.createdAt,
    })
    .from(users)
    .orderBy(asc(users.username))
    .all();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Users</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        Every change to a user ends their sessions. There is always an enabled admin: the last one cannot be demoted,
        disabled or removed.
      </p>
      <ul aria-label="Users" className="mt-6 divide-y divide-slate-200 rounded-lg border border-border bg-card">
        {list.map((u) => {
          const sessions = sessionsOf(u.id);
          return (
            <li key={u.id} aria-label={`User ${u.username}`} className="px-4">
              <details>
                <summary className="flex cursor-pointer flex-wrap items-center gap-x-4 py-3 text-sm">
                  <span className="font-medium">{u.username}</span>
                  <span>{u.role}</span>
                  {u.disabled ? <span className="text-destructive-text">disabled</span> : null}
                  <span className="text-muted-foreground">
                    {sessions.length} {sessions.length === 1 ? 'session' : 'sessions'} · since{' '}
                    <LocalTime at={u.createdAt} />
                  </span>
                </summary>
                <UserControls
                  username={u.username}
                  role={u.role}
                  disabled={u.disabled}
                  self={u.id === me.id}
                  sessions={sessions.map((s) => ({
                    id: s.id,
                    createdAt: s.createdAt,
                    address: s.address,
                    userAgent: s.userAgent,
                  }))}
                />
              </details>
            </li>
          );
        })}
      </ul>
      <section aria-labelledby="add-user" className="mt-10 rounded-lg border border-border bg-card p-6">
        <h2 id="add-user" className="mb-4 text-lg font-medium">
          Add a user
        </h2>
        <AddUserForm />
      </section>
    </main>
  );
}
