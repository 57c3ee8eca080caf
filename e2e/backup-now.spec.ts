import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, test } from './support/app';
import { waitFor } from '../test/support/wait';
import { ADMIN, addSource, signIn, sourceRow, visible } from './support/steps';

test.describe.configure({ mode: 'serial' });

let source: string;
test.beforeAll(() => {
  // Large enough that the backup runs for a few seconds and its progress can be watched.
  source = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-source-'));
  mkdirSync(path.join(source, 'docs'));
  writeFileSync(path.join(source, 'docs', 'readme.txt'), 'hello\n');
  for (let i = 0; i < 12; i++) writeFileSync(path.join(source, `blob-${i}.bin`), randomBytes(25 * 1024 * 1024));
});
test.afterAll(() => rmSync(source, { recursive: true, force: true }));

test('first-run setup creates the administrator', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
  await page.getByLabel('Repeat password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
});

test('bad input in the add-source form is explained next to each field and adds nothing', async ({ page }) => {
  await signIn(page);
  await page.goto('/backups');
  const form = page.getByRole('form', { name: 'Add a source' });
  await form.getByLabel('Name').fill('x');
  await form.getByLabel('Path').fill('relative/path');
  await form.getByLabel('Schedule (cron)').fill('every hour');
  await form.getByLabel('RPO target (minutes)').fill('0');
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(form.getByText('At least 2 characters')).toBeVisible();
  await expect(form.getByText('Give an absolute path, starting with /')).toBeVisible();
  await expect(form.getByText(/Not a cron expression/)).toBeVisible();
  await expect(form.getByText('At least 1 minute')).toBeVisible();
  await form.getByLabel('Name').fill('missing');
  await form.getByLabel('Path').fill('/no/such/directory');
  await form.getByLabel('Schedule (cron)').fill('');
  await form.getByLabel('RPO target (minutes)').fill('60');
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(form.getByText('Nothing exists at this path')).toBeVisible();
  await page.reload();
  await expect(page.getByRole('cell', { name: 'missing', exact: true })).toHaveCount(0);
});

test('add a directory source and back it up now: live progress in two browsers, success, the snapshot, a green RPO tile', async ({
  page,
  browser,
  app,
}) => {
  await signIn(page);
  await addSource(page, 'uploads', source);

  await page.goto('/');
  await expect(page.getByRole('article', { name: 'RPO of uploads' })).toHaveAttribute('data-status', 'none');

  // A second browser, signed in on its own, watches the same page.
  const other = await (await browser.newContext({ baseURL: app.url })).newPage();
  await signIn(other);
  await other.goto('/backups');
  await expect(other.getByText('No job is running.')).toBeVisible();

  await page.goto('/backups');
  const row = sourceRow(page, 'uploads');
  await row.getByRole('button', { name: 'Back up now' }).click();
  const job = page.getByRole('listitem', { name: /backup of uploads/ });
  await expect(job).toBeVisible();
  await expect(other.getByRole('listitem', { name: /backup of uploads/ })).toBeVisible();
  await waitFor(
    'the progress bar to move',
    async () =>
      Number(
        await job
          .getByRole('progressbar')
          .getAttribute('aria-valuenow', { timeout: 1000 })
          .catch(() => '100'),
      ) > 0,
    30_000,
  );
  await waitFor('the backup of uploads to finish', visible(page.getByText('No job is running.')), 60_000);
  await expect(other.getByText('No job is running.')).toBeVisible();
  await other.context().close();
  await expect(row.getByRole('cell', { name: /ago$/ })).toBeVisible();

  await page.goto('/snapshots');
  await expect(page.getByRole('cell', { name: 'local:uploads' })).toBeVisible();
  await page.goto('/');
  const tile = page.getByRole('article', { name: 'RPO of uploads' });
  await expect(tile).toHaveAttribute('data-status', 'ok');
  await expect(tile).toContainText('Within target');
});

test('Cancel stops a running backup; the job is recorded as cancelled and no snapshot is added', async ({ page }) => {
  await signIn(page);
  await page.goto('/snapshots');
  const before = await page.getByRole('cell', { name: 'local:uploads' }).count();
  // New content, so the backup has real work to do and is still running when Cancel is pressed.
  for (let i = 0; i < 12; i++) writeFileSync(path.join(source, `blob-${i}.bin`), randomBytes(25 * 1024 * 1024));
  await page.goto('/backups');
  await sourceRow(page, 'uploads').getByRole('button', { name: 'Back up now' }).click();
  const job = page.getByRole('listitem', { name: /backup of uploads/ });
  await job.getByRole('button', { name: 'Cancel' }).click();
  await waitFor('the cancelled backup to stop', visible(page.getByText('No job is running.')), 30_000);
  await page.goto('/activity?show=jobs');
  await expect(page.getByRole('cell', { name: 'backup of uploads: cancelled' })).toBeVisible();
  await page.goto('/snapshots');
  await expect(page.getByRole('cell', { name: 'local:uploads' })).toHaveCount(before);
});
