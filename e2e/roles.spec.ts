import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Browser } from '@playwright/test';

import { expect, test } from './support/app';
import { ADMIN as admin, addSource, SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

const viewer = { username: 'watcher', password: 'a viewer password' };
test.use({ serverEnv: SEEDED_ADMIN });
test.describe.configure({ mode: 'serial' });

let source: string;
test.beforeAll(() => {
  source = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-roles-'));
  writeFileSync(path.join(source, 'a.txt'), 'a');
});
test.afterAll(() => rmSync(source, { recursive: true, force: true }));

async function newSignedInPage(browser: Browser, baseURL: string, who: { username: string; password: string }) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, who);
  return page;
}

test('an admin adds a source and a viewer; bad input in the user form is explained', async ({ page }) => {
  await signIn(page, admin);
  await addSource(page, 'docs', source);

  await page.getByRole('link', { name: 'Users' }).click();
  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('Username').fill(viewer.username);
  await form.getByLabel('Password').fill('short');
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.getByText('At least 10 characters')).toBeVisible();
  await form.getByLabel('Password').fill(viewer.password);
  await form.getByLabel('Role').selectOption('viewer');
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.getByRole('status')).toHaveText('User watcher added as viewer.');
  await expect(page.getByRole('list', { name: 'Users' }).getByText('watcher', { exact: true })).toBeVisible();
});

test('a viewer sees no Back up now, no forms and no user administration', async ({ browser, app }) => {
  const page = await newSignedInPage(browser, app.url, viewer);
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.goto('/backups');
  await expect(sourceRow(page, 'docs')).toBeVisible();
  await expect(page.getByRole('button', { name: /Back up/ })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'docs', exact: true })).toHaveCount(0);
  await expect(page.getByRole('form', { name: 'Add a source' })).toHaveCount(0);
  // 16.2: a page the role may not open sends it to the overview, which says why.
  await page.goto('/settings/users');
  await expect(page).toHaveURL(/\/\?denied=%2Fsettings%2Fusers$/);
  await expect(page.getByRole('main').getByRole('alert').filter({ hasText: 'Your role' })).toHaveText(
    'Your role (viewer) does not open /settings/users: an administrator can change your role.',
  );
  await page.context().close();
});

test("the server refuses a viewer's direct POST of an admin's action", async ({ browser, app }) => {
  const viewerPage = await newSignedInPage(browser, app.url, viewer);
  const viewerCookies = await viewerPage.context().cookies();
  const adminPage = await newSignedInPage(browser, app.url, admin);
  await adminPage.goto('/backups');
  // The admin's page, with its buttons, but the viewer's session: the action's POST carries the viewer's cookie.
  await adminPage.context().clearCookies();
  await adminPage.context().addCookies(viewerCookies);
  const row = sourceRow(adminPage, 'docs');
  await row.getByRole('button', { name: 'Back up now' }).click();
  await expect(row.getByRole('alert')).toHaveText('Your role does not allow this.');
  await adminPage.goto('/activity?show=jobs');
  await expect(adminPage.getByRole('cell', { name: /backup of docs/ })).toHaveCount(0);
  await viewerPage.context().close();
  await adminPage.context().close();
});
