import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';

import { expect, test } from './support/app';
import { waitFor } from '../test/support/wait';
import { ADMIN as admin, addSource, SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });
test.describe.configure({ mode: 'serial' });

/** A webhook receiver on 127.0.0.1 that keeps every JSON body it is sent. */
function receiver(): Promise<{ url: string; received: Record<string, unknown>[]; close: () => void }> {
  const received: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
        received,
        close: () => server.close(),
      }),
    ),
  );
}

test('10.5 a webhook on 127.0.0.1 is refused until an admin allows private addresses for it; then it gets the test message and the notification of a failed backup', async ({
  page,
}) => {
  const hook = await receiver();
  try {
    await signIn(page);

    await page.getByRole('link', { name: 'Notifications' }).click();
    const form = page.getByRole('form', { name: 'Add a webhook' });
    await form.getByLabel('Webhook URL').fill('not a url');
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await expect(form.getByText(/Give a full URL/)).toBeVisible();
    // This machine, by default: refused at once, nothing sent (a webhook is no way to probe the local network).
    await form.getByLabel('Webhook URL').fill(hook.url);
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await expect(form.getByRole('status')).toHaveText('Webhook added.');
    await page.getByRole('button', { name: 'Send test' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Not delivered' })).toBeVisible();
    await expect(page.getByRole('main')).toContainText('127.0.0.1 is a private or local address');
    expect(hook.received).toEqual([]);
    await form.getByLabel('Webhook URL').fill(hook.url);
    await form.getByLabel(/Allow a private or local address/).check();
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await expect(form.getByRole('status')).toHaveText('Webhook added.');
    await expect(page.getByRole('button', { name: 'Send test' })).toHaveCount(2);
    await page.getByRole('button', { name: 'Send test' }).last().click();
    await expect(page.getByRole('status').filter({ hasText: 'Delivered.' })).toBeVisible();
    expect(hook.received).toContainEqual(expect.objectContaining({ type: 'test', by: admin.username }));

    // A source whose directory is gone by the time it is backed up: the backup fails.
    const doomed = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-doomed-'));
    writeFileSync(path.join(doomed, 'a.txt'), 'a');
    await addSource(page, 'doomed', doomed);
    rmSync(doomed, { recursive: true, force: true });
    const row = sourceRow(page, 'doomed');
    await row.getByRole('button', { name: 'Back up now' }).click();

    const failed = await waitFor(
      'the job-failed notification',
      () => hook.received.find((m) => m.type === 'job-failed'),
      30_000,
    );
    expect(failed).toMatchObject({ type: 'job-failed', source: 'doomed' });
    await page.goto('/activity?show=failures');
    await expect(page.getByRole('cell', { name: 'backup of doomed: failed' })).toBeVisible();
    await page.goto('/settings/notifications');
    // One delivery to each webhook: refused to the one not allowed, delivered to the other.
    const rows = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'job-failed' }) });
    await expect(rows).toHaveCount(2);
    await expect(rows.filter({ hasText: 'delivered' })).toHaveCount(1);
    await expect(rows.filter({ hasText: 'a private or local address' })).toHaveCount(1);
  } finally {
    hook.close();
  }
});

test('16.2 the deliveries page through their whole log, newest first (the list stopped at 50)', async ({
  page,
  app,
}) => {
  // Sixty older deliveries, written as the notifier writes them.
  const db = new Database(path.join(app.dataDir, 'lifeline.db'));
  try {
    const channel = (db.prepare('SELECT id FROM notification_channels ORDER BY id LIMIT 1').get() as { id: number }).id;
    const insert = db.prepare(
      `INSERT INTO deliveries (channel_id, event, payload, status, attempts, created_at)
       VALUES (?, ?, '{}', 'delivered', 1, ?)`,
    );
    const oldest = Date.now() - 7 * 24 * 3600_000;
    for (let i = 0; i < 60; i++) insert.run(channel, `older-${i}`, oldest + i * 60_000);
  } finally {
    db.close();
  }
  await signIn(page);
  await page.goto('/settings/notifications');
  const section = page.getByRole('region', { name: 'Deliveries' });
  const pager = section.getByRole('navigation', { name: 'Deliveries: pages' });
  await expect(pager).toContainText(/^1–50 of 6\d/);
  await expect(section.getByRole('cell', { name: 'older-0', exact: true })).toHaveCount(0);
  await pager.getByRole('link', { name: 'Older' }).click();
  await expect(pager).toContainText(/^51–6\d of 6\d/);
  await expect(section.getByRole('cell', { name: 'older-0', exact: true })).toBeVisible();
  await expect(section.getByRole('cell', { name: 'older-59', exact: true })).toHaveCount(0);
});
