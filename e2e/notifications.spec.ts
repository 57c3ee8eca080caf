import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { expect, test } from './support/app';
import { waitFor } from '../test/support/wait';
import { ADMIN as admin, addSource, SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });

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

test('a webhook on 127.0.0.1 gets the test message and the notification of a failed backup', async ({ page }) => {
  const hook = await receiver();
  try {
    await signIn(page);

    await page.getByRole('link', { name: 'Notifications' }).click();
    const form = page.getByRole('form', { name: 'Add a webhook' });
    await form.getByLabel('Webhook URL').fill('not a url');
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await expect(form.getByText(/Give a full URL/)).toBeVisible();
    await form.getByLabel('Webhook URL').fill(hook.url);
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await expect(form.getByRole('status')).toHaveText('Webhook added.');
    await page.getByRole('button', { name: 'Send test' }).click();
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
    await expect(page.getByRole('cell', { name: 'job-failed' })).toBeVisible();
  } finally {
    hook.close();
  }
});
