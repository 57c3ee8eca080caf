import type { Metadata } from 'next';
import { ActionButton } from '@/components/action-button';
import { requireUser } from '@/lib/auth/session';
import { etcdControl } from '@/lib/control/etcd';
import { db } from '@/lib/db/client';
import { failoverGroups } from '@/lib/db/schema';

import { forgetCoordination } from './actions';
import { CoordinationForm } from './coordination-form';

export const metadata: Metadata = { title: 'Coordination' };

export default async function CoordinationPage() {
  await requireUser('configure');
  const control = etcdControl();
  const onEtcd = db()
    .select({ name: failoverGroups.name, coordination: failoverGroups.coordination })
    .from(failoverGroups)
    .all()
    .filter((g) => g.coordination === 'etcd');
  return (
    <main className="mx-auto max-w-3xl p-6">
      <h1 className="text-2xl font-semibold">Coordination</h1>
      <p className="mt-2 text-sm text-foreground">
        By default this dashboard decides each group's failovers: while it is down, nothing fails over. On etcd the
        members decide among themselves through a leader key, with a watchdog beside each agent, so a failover needs
        neither this dashboard nor its machine; the dashboard then only shows state and records what happened.
      </p>
      <section aria-label="etcd settings" className="mt-4 rounded-lg border border-border bg-card p-4">
        {control ? (
          <p className="text-sm">
            etcd at <span className="font-mono">{control.endpoints.join(', ')}</span>, prefix{' '}
            <span className="font-mono">{control.root}</span>,{' '}
            {control.rootPassword ? 'with authentication (a user per node)' : 'without authentication'}.{' '}
            {onEtcd.length > 0
              ? `Groups on etcd: ${onEtcd.map((g) => g.name).join(', ')}.`
              : 'No group coordinates there yet: move one from the Nodes page.'}
          </p>
        ) : (
          <p className="text-sm text-muted-foreground">Not set up.</p>
        )}
        <CoordinationForm endpoints={control?.endpoints.join(', ') ?? ''} root={control?.root ?? '/lifeline/'} />
        {control && onEtcd.length === 0 ? (
          <div className="mt-4">
            <ActionButton action={forgetCoordination} fields={{}} label="Forget etcd" tone="link" />
          </div>
        ) : null}
      </section>
    </main>
  );
}
