import type { Metadata } from 'next';
import { desc, eq } from 'drizzle-orm';

import { ActionButton } from '@/components/action-button';
import { requireUser } from '@/lib/auth/session';
import { smtpConfigured } from '@/lib/control/notify';
import { withoutPassword } from '@/lib/format';
import { db } from '@/lib/db/client';
import { deliveries, notificationChannels } from '@/lib/db/schema';

import { removeChannel, sendTest } from './actions';
import { AddEmailForm } from './add-email-form';
import { AddWebhookForm } from './add-webhook-form';
import { LocalTime } from '@/components/time';

export const metadata: Metadata = { title: 'Notifications' };

export default async function NotificationsPage() {
  await requireUser('configure');
  const channels = db().select().from(notificationChannels).all();
  const log = db()
    .select({ delivery: deliveries, target: notificationChannels.target })
    .from(deliveries)
    .innerJoin(notificationChannels, eq(notificationChannels.id, deliveries.channelId))
    .orderBy(desc(deliveries.createdAt))
    .limit(50)
    .all();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Notifications</h1>
      <ul className="mt-4 space-y-2">
        {channels.map((c) => (
          <li key={c.id} className="flex items-center gap-4 rounded border border-slate-200 bg-white px-4 py-2 text-sm">
            <span className="text-xs uppercase text-slate-500">{c.kind}</span>
            <span className="font-mono">{withoutPassword(c.target)}</span>
            {c.allowPrivate ? <span className="text-xs text-amber-700">may reach private addresses</span> : null}
            <span className="ml-auto">
              <ActionButton action={sendTest} fields={{ channelId: c.id }} label="Send test" tone="link" />{' '}
              <ActionButton action={removeChannel} fields={{ channelId: c.id }} label="Remove" tone="danger" />
            </span>
          </li>
        ))}
      </ul>
      {channels.length === 0 ? <p className="mt-2 text-sm text-slate-500">No webhook yet.</p> : null}
      <section aria-labelledby="add-webhook" className="mt-8 rounded-lg border border-slate-200 bg-white p-6">
        <h2 id="add-webhook" className="mb-4 text-lg font-medium">
          Add a webhook
        </h2>
        <AddWebhookForm />
      </section>
      <section aria-labelledby="add-email" className="mt-8 rounded-lg border border-slate-200 bg-white p-6">
        <h2 id="add-email" className="mb-4 text-lg font-medium">
          Add an email address
        </h2>
        {smtpConfigured() ? (
          <AddEmailForm />
        ) : (
          <p className="text-sm text-slate-600">
            Email needs SMTP: set LIFELINE_SMTP_URL and LIFELINE_SMTP_FROM, then restart.
          </p>
        )}
      </section>
      <section aria-labelledby="deliveries" className="mt-8">
        <h2 id="deliveries" className="text-lg font-medium">
          Deliveries
        </h2>
        <table className="mt-3 w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr>
              <th className="py-2">When</th>
              <th>Event</th>
              <th>To</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {log.map(({ delivery: d, target }) => (
              <tr key={d.id} className="border-t border-slate-200">
                <td className="py-2">
                  <LocalTime at={d.createdAt} />
                </td>
                <td>{d.event}</td>
                <td className="font-mono text-xs">{withoutPassword(target)}</td>
                <td>{d.status}</td>
                <td>{d.attempts}</td>
                <td className="text-xs">{d.lastError}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
