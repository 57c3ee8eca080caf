import Link from 'next/link';
import type { ReactNode } from 'react';

import { MainNav } from '@/components/main-nav';
import { Button } from '@/components/ui/button';
import { Toaster } from '@/components/ui/toast';
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
  ['/statistics', 'Statistics', 'view'],
  ['/settings/repository', 'Repository', 'configure'],
  ['/settings/notifications', 'Notifications', 'configure'],
  ['/settings/metrics', 'Metrics', 'configure'],
  ['/settings/users', 'Users', 'manage-users'],
];

export default async function AppLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  return (
    <div className="min-h-screen">
      <header className="relative border-b border-border bg-card">
        <MainNav
          pages={PAGES.filter(([, , permission]) => can(user.role, permission)).map(([href, label]) => ({
            href,
            label,
          }))}
          end={
            <>
              <Link href="/settings/account" className="text-sm text-muted-foreground hover:underline">
                {user.username} · {user.role}
              </Link>
              <form action={signOut}>
                <Button type="submit" variant="link">
                  Sign out
                </Button>
              </form>
            </>
          }
        />
      </header>
      {children}
      <Toaster />
    </div>
  );
}
