import Link from 'next/link';
import type { ReactNode } from 'react';

import { can, type Permission } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';

import { signOut } from './actions';

const PAGES: [string, string, Permission][] = [
  ['/', 'Overview', 'view'],
  ['/backups', 'Backups', 'view'],
  ['/snapshots', 'Snapshots', 'view'],
  ['/restore', 'Restore', 'restore-elsewhere'],
  ['/nodes', 'Nodes', 'view'],
  ['/activity', 'Activity', 'view'],
  ['/settings/repository', 'Repository', 'configure'],
  ['/settings/notifications', 'Notifications', 'configure'],
  ['/settings/users', 'Users', 'manage-users'],
];

export default async function AppLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <nav aria-label="Main" className="mx-auto flex max-w-5xl items-center gap-6 px-6 py-3">
          <Link href="/" className="font-semibold">
            Lifeline
          </Link>
          {PAGES.filter(([, , permission]) => can(user.role, permission)).map(([href, label]) => (
            <Link key={href} href={href} className="text-sm text-slate-700 hover:underline">
              {label}
            </Link>
          ))}
          <Link href="/settings/account" className="ml-auto text-sm text-slate-600 hover:underline">
            {user.username} · {user.role}
          </Link>
          <form action={signOut}>
            <button type="submit" className="text-sm text-sky-700 hover:underline">
              Sign out
            </button>
          </form>
        </nav>
      </header>
      {children}
    </div>
  );
}
