import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Page } from '@playwright/test';

import { expect, test } from './support/app';
import { waitFor } from '../test/support/wait';
import { planRow, SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });
test.describe.configure({ mode: 'serial' });

let dir: string;
let marks: string;
test.beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-policy-'));
  marks = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-marks-'));
  writeFileSync(path.join(dir, 'state.json'), '{"v":1}');
});
test.afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(marks, { recursive: true, force: true });
});

async function addSource(page: Page, fields: Record<string, string>) {
  await page.goto('/backups');
  const form = page.getByRole('form', { name: 'Add a source' });
  for (const [label, value] of Object.entries(fields)) await form.getByLabel(label, { exact: true }).fill(value);
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(form.getByRole('status')).toHaveText(`Source ${fields.Name} added.`);
}

async function backUp(page: Page, name: string) {
  await page.goto('/backups');
  const row = sourceRow(page, name);
  await row.getByRole('button', { name: 'Back up now' }).click();
  await expect(row.getByRole('status')).toHaveText(/^Backup job \d+ (queued|running|done|failed)/);
}

/** Polls the Activity page until `count` jobs of the source have ended. */
async function jobsEnded(page: Page, name: string, count: number) {
  const ended = await waitFor(
    `${count} ended backups of ${name}`,
    async () => {
      await page.goto(`/activity?show=jobs&q=${encodeURIComponent(`backup of ${name}:`)}`);
      const n = await page
        .getByRole('cell', { name: new RegExp(`^backup of ${name}: (succeeded|failed|cancelled)$`) })
        .count();
      return n >= count && n;
    },
    60_000,
  );
  expect(ended).toBe(count);
}

test('commands run before and after each backup, and retention keeps the newest snapshot only', async ({ page }) => {
  await signIn(page);
  await addSource(page, {
    Name: 'policy',
    Path: dir,
    'Keep last': '1',
    'Command before': `echo before >> ${path.join(marks, 'log')}`,
    'Command after': `echo after >> ${path.join(marks, 'log')}`,
  });
  await backUp(page, 'policy');
  await jobsEnded(page, 'policy', 1);
  writeFileSync(path.join(dir, 'state.json'), '{"v":2}');
  await backUp(page, 'policy');
  await jobsEnded(page, 'policy', 2);
  expect(readFileSync(path.join(marks, 'log'), 'utf8')).toBe('before\nafter\nbefore\nafter\n');
  await page.goto('/snapshots');
  await expect(page.getByRole('cell', { name: 'local:policy' })).toHaveCount(1);
});

test('a failing command before the backup fails the job, backs nothing up, and still runs the command after', async ({
  page,
}) => {
  await signIn(page);
  await addSource(page, {
    Name: 'refused',
    Path: dir,
    'Command before': 'echo app is busy >&2; exit 3',
    'Command after': `touch ${path.join(marks, 'after-refused')}`,
  });
  await backUp(page, 'refused');
  await jobsEnded(page, 'refused', 1);
  await page.goto('/activity?show=failures');
  await expect(page.getByRole('cell', { name: 'backup of refused: failed' })).toBeVisible();
  await expect(
    page.getByRole('cell', { name: /pre-backup command failed, nothing was backed up: exit code 3: app is busy/ }),
  ).toBeVisible();
  await page.goto('/snapshots');
  await expect(page.getByRole('cell', { name: 'local:refused' })).toHaveCount(0);
  expect(existsSync(path.join(marks, 'after-refused'))).toBe(true);
});

test('an admin edits a plan: schedule in a time zone, with bad input explained and nothing saved', async ({ page }) => {
  await signIn(page);
  await page.goto('/backups');
  await planRow(page, 'policy').getByRole('link', { name: 'policy', exact: true }).click();
  const form = page.getByRole('form', { name: 'Plan policy' });
  await expect(form.getByLabel('Keep last', { exact: true })).toHaveValue('1');
  await form.getByLabel('Schedule (cron)').fill('every five minutes');
  await form.getByLabel('Time zone').fill('Mars/Olympus');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByText(/Not a cron expression/)).toBeVisible();
  await expect(form.getByText(/Not a time zone/)).toBeVisible();
  await page.goto('/backups');
  await expect(planRow(page, 'policy')).toContainText('on demand');

  await planRow(page, 'policy').getByRole('link', { name: 'policy', exact: true }).click();
  await form.getByLabel('Schedule (cron)').fill('30 2 * * *');
  await form.getByLabel('Time zone').fill('Europe/Paris');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('status')).toHaveText('Plan policy saved.');
  await page.goto('/backups');
  await expect(planRow(page, 'policy')).toContainText('30 2 * * * Europe/Paris (next');
});

test('a second source joins an existing plan, and Back up plan now backs up both', async ({ page }) => {
  await signIn(page);
  const second = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-policy-second-'));
  try {
    writeFileSync(path.join(second, 'b.txt'), 'b');
    await page.goto('/backups');
    const form = page.getByRole('form', { name: 'Add a source' });
    await form.getByLabel('Name', { exact: true }).fill('second');
    await form.getByLabel('Plan').selectOption({ label: 'policy' });
    await form.getByLabel('Path', { exact: true }).fill(second);
    await form.getByRole('button', { name: 'Add source' }).click();
    await expect(form.getByRole('status')).toHaveText('Source second added.');
    await expect(planRow(page, 'policy')).toContainText('policy, second');
    await expect(sourceRow(page, 'second')).toContainText('policy');
    await planRow(page, 'policy').getByRole('button', { name: 'Back up plan now' }).click();
    await expect(planRow(page, 'policy').getByRole('status')).toHaveText(/^2 backup jobs( queued|: .*)\.$/);
    await jobsEnded(page, 'second', 1);
    await jobsEnded(page, 'policy', 3);
    await page.goto('/snapshots');
    await expect(page.getByRole('cell', { name: 'local:second' })).toHaveCount(1);
  } finally {
    rmSync(second, { recursive: true, force: true });
  }
});
