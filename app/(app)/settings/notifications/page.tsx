import type { Metadata } from 'next';
import { count, desc, eq } from 'drizzle-orm';

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
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';
import { Pager } from '@/components/ui/pager';
import { pageOf } from '@/lib/paging';

export const metadata: Metadata = { title: 'Notifications' };

const DELIVERIES_PAGE = 50;

export default async function NotificationsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await requireUser('configure');
  const channels = db().select().from(notificationChannels).all();
  const total = db().select({ n: count() }).from(deliveries).get()!.n;
  const page = pageOf((await searchParams).page, total, DELIVERIES_PAGE);
  const log = db()
    .select({ delivery: deliveries, target: notificationChannels.target })
    .from(deliveries)
    .innerJoin(notificationChannels, eq(notificationChannels.id, deliveries.channelId))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(DELIVERIES_PAGE)
    .offset(page * DELIVERIES_PAGE)
    .all();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Notifications</h1>
      <ul className="mt-4 space-y-2">
        {channels.map((c) => (
          <li key={c.id} className="flex items-center gap-4 rounded border border-border bg-card px-4 py-2 text-sm">
            <span className="text-xs uppercase text-muted-foreground">{c.kind}</span>
            <span className="font-mono">{withoutPassword(c.target)}</span>
            {c.allowPrivate ? <span className="text-xs text-warning-text">may reach private addresses</span> : null}
            <span className="ml-auto">
              <ActionButton action={sendTest} fields={{ channelId: c.id }} label="Send test" tone="link" />{' '}
              <ActionButton action={removeChannel} fields={{ channelId: c.id }} label="Remove" tone="danger" />
            </span>
          </li>
        ))}
      </ul>
      {channels.length === 0 ? <p className="mt-2 text-sm text-muted-foreground">No webhook yet.</p> : null}
      <section aria-labelledby="add-webhook" className="mt-8 rounded-lg border border-border bg-card p-6">
        <h2 id="add-webhook" className="mb-4 text-lg font-medium">
          Add a webhook
        </h2>
        <AddWebhookForm />
      </section>
      <section aria-labelledby="add-email" className="mt-8 rounded-lg border border-border bg-card p-6">
        <h2 id="add-email" className="mb-4 text-lg font-medium">
          Add an email address
        </h2>
        {smtpConfigured() ? (
          <AddEmailForm />
        ) : (
          <p className="text-sm text-muted-foreground">
            Email needs SMTP: set LIFELINE_SMTP_URL and LIFELINE_SMTP_FROM, then restart.
          </p>
        )}
      </section>
      <section aria-labelledby="deliveries" className="mt-8">
        <h2 id="deliveries" className="text-lg font-medium">
          Deliveries
        </h2>
        <Table className="mt-3">
          <TableHeader>
            <TableRow>
              <TableHead>When</TableHead>
              <TableHead>Event</TableHead>
              <TableHead>To</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>Attempts</TableHead>
              <TableHead>Last error</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {log.map(({ delivery: d, target }) => (
              <TableRow key={d.id}>
                <TableCell>
                  <LocalTime at={d.createdAt} />
                </TableCell>
                <TableCell>{d.event}</TableCell>
                <TableCell className="font-mono text-xs">{withoutPassword(target)}</TableCell>
                <TableCell>{d.status}</TableCell>
                <TableCell>{d.attempts}</TableCell>
                <TableCell className="text-xs">{d.lastError}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
        <Pager
          label="Deliveries"
          page={page}
          pageSize={DELIVERIES_PAGE}
          total={total}
          href={(n) => (n > 0 ? `/settings/notifications?page=${n + 1}` : '/settings/notifications')}
          previous="Newer"
          next="Older"
        />
      </section>
    </main>
  );
}
