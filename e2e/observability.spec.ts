// Issue 20 in a browser: a backup that looks like ransomware at work is flagged on the overview and its job page,
// and an admin dismisses it by name (17.3); the Statistics page shows each repository's sizes, ratios and growth
// (17.2); /metrics answers the holder of the token an admin made, and nobody else (17.1).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Page } from '@playwright/test';

import { encryptSome, workingDay, workingTree } from '../test/support/working-tree';
import { expect, test } from './support/app';
import { addSource, addUser, SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });
test.describe.configure({ mode: 'serial' });

let dir: string;
test.beforeAll(() => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-observability-')), 'project');
  workingTree(dir);
});
test.afterAll(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

/** Backs the source up from the Backups page and waits on the job's page for its end; returns the job's id. */
async function backUp(page: Page, name: string): Promise<number> {
  await page.goto('/backups');
  await sourceRow(page, name).getByRole('button', { name: 'Back up now' }).click();
  const link = sourceRow(page, name).getByRole('link', { name: /^Job \d+$/ });
  const id = Number((await link.textContent())!.replace('Job ', ''));
  await page.goto(`/jobs/${id}`);
  await expect(page.getByRole('region', { name: 'Progress' }).getByRole('status')).toHaveText('succeeded', {
    timeout: 60_000,
  });
  return id;
}

test('17.3 a backup that rewrote 30 % of the files with random bytes is flagged on the overview and its job page; an admin dismisses it by the source’s name', async ({
  page,
}) => {
  await signIn(page);
  await addSource(page, 'project', dir);
  await backUp(page, 'project');
  // The first backup is all new and is no measure; five more are the fewest a backup is judged against.
  for (let day = 1; day <= 6; day++) {
    workingDay(dir, day);
    await backUp(page, 'project');
    if (day === 6) await expect(page.getByRole('region', { name: 'Figures' })).toContainText('Looks usualyes');
  }
  await page.goto('/');
  await expect(page.getByRole('region', { name: /like ransomware at work/ })).toHaveCount(0);

  encryptSome(dir);
  const attacked = await backUp(page, 'project');
  const figures = page.getByRole('region', { name: 'Figures' });
  await expect(figures.getByRole('alert')).toContainText(/^no: \d+ % of its content is new/);
  await expect(page.getByRole('log')).toContainText('This backup looks unlike the usual ones');

  await page.goto('/');
  const flagged = page.getByRole('region', { name: 'A backup looks like ransomware at work' });
  await expect(flagged).toContainText('project');
  await expect(flagged).toContainText(/the one before it, is kept whatever the retention policy says/);
  await flagged.getByRole('link', { name: `job ${attacked}` }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${attacked}$`));

  await page.goto('/');
  await flagged.getByRole('button', { name: 'Dismiss the flag' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox').fill('not-project');
  await dialog.getByRole('button', { name: 'Dismiss the flag' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('Type project to confirm.');
  await dialog.getByRole('textbox').fill('project');
  await dialog.getByRole('button', { name: 'Dismiss the flag' }).click();
  await expect(page.getByText("The flag on project's backup is dismissed.", { exact: true })).toBeVisible();
  await expect(flagged).toHaveCount(0);
  await page.goto('/activity?show=actions');
  await expect(page.getByRole('main')).toContainText('dismiss backup flag: project');
});

test('17.2 Statistics: Sample now shows the repository’s stored size, deduplication and compression, its growth, and each source', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/statistics');
  await page.getByRole('button', { name: 'Sample now' }).click();
  await expect(page.getByRole('status')).toHaveText(/^\d+ repositor(y|ies) sampled\.$/);
  const repo = page.getByRole('region', { name: "The dashboard's repository" });
  await expect(repo.getByText('Deduplication')).toBeVisible();
  await expect(repo.getByRole('figure', { name: "Growth of The dashboard's repository" })).toBeVisible();
  const row = repo.getByRole('row').filter({ has: page.getByRole('cell', { name: 'local:project', exact: true }) });
  await expect(row.getByRole('cell').nth(1)).toHaveText('8');
});

test('17.1 /metrics answers the holder of the token an admin made, refuses anyone else, and nobody once it is revoked; a viewer cannot make one', async ({
  page,
  app,
  browser,
}) => {
  const scrape = (token?: string) =>
    fetch(`${app.url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  expect((await scrape()).status).toBe(403);

  await signIn(page);
  await page.goto('/settings/metrics');
  await page.getByRole('button', { name: 'Make a token' }).click();
  const config = page.getByRole('figure', { name: 'Scrape config' });
  const token = /credentials: (\S+)/.exec((await config.textContent()) ?? '')![1];
  const ok = await scrape(token);
  expect(ok.status).toBe(200);
  expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await ok.text();
  expect(text).toMatch(/^lifeline_jobs_total\{kind="backup",status="succeeded"\} 8$/m);
  expect(text).toMatch(/^lifeline_source_flagged_backups\{source="project"\} 0$/m);
  expect(text).toMatch(/^lifeline_repository_stored_bytes\{repository="dashboard"\} [1-9]\d*$/m);
  const refused = await scrape(`${token}x`);
  expect(refused.status).toBe(401);
  expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect(await refused.text()).not.toContain('lifeline_');
  expect((await scrape()).status).toBe(401);
  // The page shows a token once: reloaded, it says one is in use and shows none.
  await page.reload();
  await expect(page.getByRole('main')).toContainText('is in use');
  expect(await page.content()).not.toContain(token);

  await addUser(page, { username: 'watcher', password: 'a viewer password' }, 'viewer');
  const viewer = await (await browser.newContext({ baseURL: app.url })).newPage();
  await signIn(viewer, { username: 'watcher', password: 'a viewer password' });
  await viewer.goto('/settings/metrics');
  await expect(viewer).toHaveURL(/denied=/);

  await page.goto('/settings/metrics');
  await page.getByRole('button', { name: 'Revoke the token' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox').fill('metrics');
  await dialog.getByRole('button', { name: 'Revoke the token' }).click();
  await expect(page.getByText('Token revoked: /metrics answers nobody.', { exact: true })).toBeVisible();
  expect((await scrape(token)).status).toBe(403);
});
