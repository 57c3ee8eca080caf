// 10.5: the control plane's own snapshot is the administrators' only; a name typed at sign-in that is no user's (it
// may be a password) is not written to the audit log; a change to a plan's commands is; a webhook's password is not
// shown; sources, plans and webhooks can be removed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { waitFor } from '../test/support/wait';
import { expect, test } from './support/app';
import { addSource, addUser, planRow, SEEDED_ADMIN, signIn, sourceRow, visible } from './support/steps';

test.describe.configure({ mode: 'serial' });
test.use({ serverEnv: SEEDED_ADMIN });

const viewer = { username: 'vic', password: 'vics long password' };

test('10.5 a viewer neither sees, browses nor compares the control plane’s own snapshot; an admin does', async ({
  page,
  browser,
  app,
}) => {
  await signIn(page);
  await addUser(page, viewer, 'viewer');
  await page.goto('/backups');
  const row = sourceRow(page, 'control-plane');
  await row.getByRole('button', { name: 'Back up now' }).click();
  await waitFor('the control plane’s backup', visible(row.getByRole('cell', { name: /ago$/ })), 60_000);
  await page.goto('/snapshots?source=local:control-plane');
  const link = page
    .getByRole('main')
    .getByRole('link', { name: /^[0-9a-f]{8}$/ })
    .first();
  const href = (await link.getAttribute('href'))!;
  const id = href.split('/').pop()!.split('?')[0];
  await page.goto(href);
  await expect(page.getByRole('main')).toContainText('Contents of /');

  const asViewer = await (await browser.newContext({ baseURL: app.url })).newPage();
  await signIn(asViewer, viewer);
  await asViewer.goto('/snapshots');
  await expect(asViewer.getByRole('main')).not.toContainText('control-plane');
  expect((await asViewer.goto(`/snapshots/${id}`))?.status()).toBe(404);
  await expect(asViewer.getByRole('heading', { level: 1 })).toHaveText('No such snapshot.');
  await asViewer.goto(`/snapshots/compare?a=${id}&b=${id}`);
  await expect(asViewer.getByRole('main').getByRole('alert')).toHaveText('No such snapshot.');
  await asViewer.context().close();
});

test('10.5 a name typed at sign-in that is no user’s is not written to the audit log; a known user’s failure is', async ({
  page,
  browser,
  app,
}) => {
  const other = await (await browser.newContext({ baseURL: app.url })).newPage();
  await other.goto('/login');
  for (const username of ['my secret passphrase', viewer.username]) {
    await other.getByLabel('Username').fill(username);
    await other.getByLabel('Password').fill('not it');
    await other.getByRole('button', { name: 'Sign in' }).click();
    await expect(other.getByLabel('Password')).toHaveValue('');
  }
  await other.context().close();
  await signIn(page);
  await page.goto('/activity?show=actions');
  const main = page.getByRole('main');
  await expect(main).toContainText('an unknown username');
  await expect(main).not.toContainText('my secret passphrase');
  await expect(main).toContainText(viewer.username);
});

test('10.5 a change to a plan’s commands is audited with the commands; a webhook’s password is never shown', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/backups');
  await planRow(page, 'control-plane').getByRole('link', { name: 'control-plane', exact: true }).click();
  const form = page.getByRole('form', { name: 'Plan policy' });
  await form.getByLabel('Command before').fill('sqlite3 /srv/app.db .dump > /tmp/app.sql');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('status')).toHaveText('Plan control-plane saved.');
  await page.goto('/activity?show=actions');
  await expect(page.getByRole('main')).toContainText(
    'command before "sqlite3 /srv/app.db .dump > /tmp/app.sql" (was "")',
  );

  await page.goto('/settings/notifications');
  const webhook = page.getByRole('form', { name: 'Add a webhook' });
  await webhook.getByLabel('Webhook URL').fill('http://hooks:s3cret-token@127.0.0.1:9/lifeline');
  await webhook.getByRole('button', { name: 'Add webhook' }).click();
  await expect(webhook.getByRole('status')).toHaveText('Webhook added.');
  await page.reload();
  await expect(page.getByRole('main')).toContainText('http://hooks:***@127.0.0.1:9/lifeline');
  expect(await page.content()).not.toContain('s3cret-token');
});

test('10.5 a source, then its emptied plan, and a webhook are removed (the names typed to confirm); the built-in ones cannot be', async ({
  page,
}) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-remove-'));
  try {
    await signIn(page);
    await addSource(page, 'short-lived', dir);
    await page.goto('/backups');
    await planRow(page, 'short-lived').getByRole('link', { name: 'short-lived', exact: true }).click();
    await page.getByRole('button', { name: 'Remove source short-lived' }).click();
    const source = page.getByRole('form', { name: 'Remove source short-lived' });
    await source.getByLabel('Type short-lived to confirm').fill('short');
    await source.getByRole('button', { name: 'Remove source short-lived' }).click();
    await expect(source.getByRole('alert')).toHaveText('Type short-lived to confirm.');
    await source.getByLabel('Type short-lived to confirm').fill('short-lived');
    await source.getByRole('button', { name: 'Remove source short-lived' }).click();
    await page.reload();
    await page.getByRole('button', { name: 'Remove plan short-lived' }).click();
    const plan = page.getByRole('form', { name: 'Remove plan short-lived' });
    await plan.getByLabel('Type short-lived to confirm').fill('short-lived');
    await plan.getByRole('button', { name: 'Remove plan short-lived' }).click();
    await expect(page).toHaveURL(/\/backups$/);
    await expect(sourceRow(page, 'short-lived')).toHaveCount(0);
    await expect(planRow(page, 'short-lived')).toHaveCount(0);
    await page.goto('/activity?show=actions');
    await expect(page.getByRole('main')).toContainText('remove source: short-lived');

    await page.goto('/backups');
    await planRow(page, 'control-plane').getByRole('link', { name: 'control-plane', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Plan control-plane' })).toBeVisible();
    await expect(page.getByRole('button', { name: /^Remove (source|plan)/ })).toHaveCount(0);

    await page.goto('/settings/notifications');
    await page.getByRole('button', { name: 'Remove' }).first().click();
    await expect(page.getByRole('main')).not.toContainText('hooks:***@127.0.0.1:9');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
