import type { Metadata } from 'next';
import { desc } from 'drizzle-orm';

import { can } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';
import { sourceKeyOf } from '@/lib/control/job-queue';
import { db } from '@/lib/db/client';
import { snapshots, sources } from '@/lib/db/schema';

import { RestoreWizard, type WizardSource } from './restore-wizard';

export const metadata: Metadata = { title: 'Restore' };

export default async function RestorePage() {
  const user = await requireUser('restore-elsewhere');
  const all = db().select().from(snapshots).orderBy(desc(snapshots.endedAt)).all();
  const list: WizardSource[] = db()
    .select()
    .from(sources)
    .orderBy(sources.name)
    .all()
    .filter((s) => !s.builtIn || can(user.role, 'configure'))
    .map((s) => ({
      id: s.id,
      name: s.name,
      path: s.path,
      snapshots: all
        .filter((snap) => snap.sourceKey === sourceKeyOf(s))
        .map((snap) => ({ id: snap.id, endedAt: snap.endedAt, bytes: snap.bytes })),
    }));
  return (
    <main className="mx-auto max-w-4xl p-6">
      <h1 className="text-2xl font-semibold">Restore</h1>
      <RestoreWizard sources={list} canInPlace={can(user.role, 'restore-in-place')} />
    </main>
  );
}
