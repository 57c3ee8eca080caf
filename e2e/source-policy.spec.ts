import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Page } from '@playwright/test';

import { expect, test } from './support/app';
import { SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

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
  await expect(row.getByRole('status')).toHaveText(/Backup job \d+ queued/);
}

/** Polls the Activity page until `count` jobs of the source have ended. */
async function jobsEnded(page: Page, name: string, count: number) {
  await expect
    .poll(
      async () => {
        await page.goto(`/activity?show=jobs&q=${encodeURIComponent(`backup of ${name}:`)}`);
        return page.getByRole('cell', { name: new RegExp(`^backup of ${name}: (succeeded|failed|cancelled)$`) }).count();
      },
      { timeout: 30_000 },
    )
    .toBe(count);
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

test('a failing command before the backup fails the job, backs nothing up, and still runs the command after', async ({ page }) => {
  await signIn(page);
  await addSource(page, { Name: 'refused', Path: dir, 'Command before': 'echo app is busy >&2; exit 3', 'Command after': `touch ${path.join(marks, 'after-refused')}` });
  await backUp(page, 'refused');
  await jobsEnded(page, 'refused', 1);
  await page.goto('/activity?show=failures');
  await expect(page.getByRole('cell', { name: 'backup of refused: failed' })).toBeVisible();
  await expect(page.getByRole('cell', { name: /pre-backup command failed, nothing was backed up: exit code 3: app is busy/ })).toBeVisible();
  await page.goto('/snapshots');
  await expect(page.getByRole('cell', { name: 'local:refused' })).toHaveCount(0);
  expect(existsSync(path.join(marks, 'after-refused'))).toBe(true);
});

test('an admin edits a source: schedule in a time zone, with bad input explained and nothing saved', async ({ page }) => {
  await signIn(page);
  await page.goto('/backups');
  await page.getByRole('link', { name: 'policy', exact: true }).click();
  const form = page.getByRole('form', { name: 'Source policy' });
  await expect(form.getByLabel('Keep last', { exact: true })).toHaveValue('1');
  await form.getByLabel('Schedule (cron)').fill('every five minutes');
  await form.getByLabel('Time zone').fill('Mars/Olympus');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByText(/Not a cron expression/)).toBeVisible();
  await expect(form.getByText(/Not a time zone/)).toBeVisible();
  await page.goto('/backups');
  await expect(sourceRow(page, 'policy')).toContainText('on demand');

  await page.getByRole('link', { name: 'policy', exact: true }).click();
  await form.getByLabel('Schedule (cron)').fill('30 2 * * *');
  await form.getByLabel('Time zone').fill('Europe/Paris');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('status')).toHaveText('Source policy saved.');
  await page.goto('/backups');
  await expect(sourceRow(page, 'policy')).toContainText('30 2 * * * (next');
});
