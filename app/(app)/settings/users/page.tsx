import { asc } from 'drizzle-orm';

import { requireUser } from '@/lib/auth/session';
import { db } from '@/lib/db/client';
import { users } from '@/lib/db/schema';

import { AddUserForm } from './add-user-form';

export default async function UsersPage() {
  await requireUser('manage-users');
  const list = db()
    .select({ username: users.username, role: users.role, createdAt: users.createdAt })
    .from(users)
    .orderBy(asc(users.username))
    .all();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Users</h1>
      <table className="mt-6 w-full text-left text-sm">
        <caption className="sr-only">Users</caption>
        <thead className="text-slate-500">
          <tr>
            <th className="py-2">Username</th>
            <th>Role</th>
            <th>Since</th>
          </tr>
        </thead>
        <tbody>
          {list.map((u) => (
            <tr key={u.username} className="border-t border-slate-200">
              <td className="py-2 font-medium">{u.username}</td>
              <td>{u.role}</td>
              <td>{new Date(u.createdAt).toLocaleDateString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <section aria-labelledby="add-user" className="mt-10 rounded-lg border border-slate-200 bg-white p-6">
        <h2 id="add-user" className="mb-4 text-lg font-medium">
          Add a user
        </h2>
        <AddUserForm />
      </section>
    </main>
  );
}
