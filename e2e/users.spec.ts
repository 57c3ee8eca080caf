// 10.1: users are managed, not only added. Every change an admin makes ends the user's sessions and is audited;
// the last admin stays; a user changes their own password and ends their other sessions; the live event stream
// ends with its session.
import path from 'node:path';

import Database from 'better-sqlite3';
import type { Browser, Page } from '@playwright/test';

import { waitFor } from '../test/support/wait';
import { expect, test } from './support/app';
import { ADMIN, addUser, SEEDED_ADMIN, signIn } from './support/steps';

test.describe.configure({ mode: 'serial' });
test.use({ serverEnv: SEEDED_ADMIN });

const casey = { username: 'casey', password: 'caseys first password' };

async function pageAs(browser: Browser, url: string, who: { username: string; password: string }): Promise<Page> {
  const page = await (await browser.newContext({ baseURL: url })).newPage();
  await signIn(page, who);
  return page;
}

/** Whether this page's session still opens the console (an ended one is sent to the sign-in page). */
async function signedIn(page: Page): Promise<boolean> {
  await page.goto('/activity');
  return !page.url().endsWith('/login');
}

async function manage(admin: Page, username: string) {
  await admin.goto('/settings/users');
  const item = admin.getByRole('listitem', { name: `User ${username}`, exact: true });
  await item.locator('summary').click();
  return item;
}

async function signInFails(browser: Browser, url: string, who: { username: string; password: string }) {
  const page = await (await browser.newContext({ baseURL: url })).newPage();
  await page.goto('/login');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong username or password.' })).toBeVisible();
  await page.context().close();
}

test('10.1 an admin changes a role, resets a password, disables, enables and removes a user; each ends their sessions and is audited', async ({
  page,
  browser,
  app,
}) => {
  await signIn(page);
  await addUser(page, casey, 'operator');

  let other = await pageAs(browser, app.url, casey);
  let item = await manage(page, 'casey');
  await item.getByRole('form', { name: 'Role of casey' }).getByLabel('Role').selectOption('viewer');
  await item.getByRole('button', { name: 'Change role' }).click();
  await expect(item.getByRole('status')).toHaveText('casey is now viewer. Their sessions were ended.');
  expect(await signedIn(other)).toBe(false);
  await other.context().close();
  other = await pageAs(browser, app.url, casey);
  await expect(other.getByText('casey · viewer')).toBeVisible();

  item = await manage(page, 'casey');
  const password = item.getByRole('form', { name: 'Password of casey' });
  await password.getByLabel('New password').fill('short');
  await password.getByRole('button', { name: 'Reset password' }).click();
  await expect(password.getByText('At least 10 characters')).toBeVisible();
  await password.getByLabel('New password').fill('caseys second password');
  await password.getByRole('button', { name: 'Reset password' }).click();
  await expect(password.getByRole('status')).toHaveText("casey's password was reset. Their sessions were ended.");
  expect(await signedIn(other)).toBe(false);
  await other.context().close();
  await signInFails(browser, app.url, casey);
  casey.password = 'caseys second password';
  other = await pageAs(browser, app.url, casey);

  item = await manage(page, 'casey');
  await item.getByRole('button', { name: 'Disable' }).click();
  await expect(item.getByRole('status')).toHaveText('casey is disabled. Their sessions were ended.');
  expect(await signedIn(other)).toBe(false);
  await other.context().close();
  await signInFails(browser, app.url, casey);
  item = await manage(page, 'casey');
  await item.getByRole('button', { name: 'Enable' }).click();
  await expect(item.getByRole('status')).toHaveText('casey may sign in again. Their sessions were ended.');
  other = await pageAs(browser, app.url, casey);

  item = await manage(page, 'casey');
  const remove = item.getByRole('form', { name: 'Remove casey' });
  await remove.getByLabel('Type casey to remove this user').fill('cassie');
  await remove.getByRole('button', { name: 'Remove user' }).click();
  await expect(remove.getByText('Type casey to confirm')).toBeVisible();
  await remove.getByLabel('Type casey to remove this user').fill('casey');
  await remove.getByRole('button', { name: 'Remove user' }).click();
  // The user's entry goes from the list.
  await expect(page.getByRole('list', { name: 'Users' }).getByText('casey', { exact: true })).toHaveCount(0);
  expect(await signedIn(other)).toBe(false);
  await other.context().close();
  await signInFails(browser, app.url, casey);

  await page.goto('/activity?show=actions');
  await expect(page.getByRole('status').filter({ hasText: 'The audit log is intact' })).toBeVisible();
  for (const action of ['change role to viewer', 'reset password', 'disable user', 'enable user', 'remove user'])
    await expect(page.getByRole('main').getByText(action).first()).toBeVisible();
});

test('10.1 the last admin cannot be demoted, disabled or removed', async ({ page, browser, app }) => {
  await signIn(page);
  let item = await manage(page, ADMIN.username);
  // Not on their own entry: no Disable or Remove.
  await expect(item.getByRole('button', { name: 'Disable' })).toHaveCount(0);
  await expect(item.getByRole('form', { name: `Remove ${ADMIN.username}` })).toHaveCount(0);
  await item
    .getByRole('form', { name: `Role of ${ADMIN.username}` })
    .getByLabel('Role')
    .selectOption('operator');
  await item.getByRole('button', { name: 'Change role' }).click();
  await expect(item.getByRole('alert')).toHaveText('admin is the last admin: make another user an admin first.');
  await page.reload();
  await expect(page.getByText('admin · admin')).toBeVisible();

  // A second admin may disable the first; then the second is the last and stays.
  const secondAdmin = { username: 'second-admin', password: 'the second admin password' };
  await addUser(page, secondAdmin, 'admin');
  const second = await pageAs(browser, app.url, secondAdmin);
  item = await manage(second, ADMIN.username);
  await item.getByRole('button', { name: 'Disable' }).click();
  await expect(item.getByRole('status')).toHaveText('admin is disabled. Their sessions were ended.');
  item = await manage(second, 'second-admin');
  await item.getByRole('form', { name: 'Role of second-admin' }).getByLabel('Role').selectOption('viewer');
  await item.getByRole('button', { name: 'Change role' }).click();
  await expect(item.getByRole('alert')).toHaveText('second-admin is the last admin: make another user an admin first.');
  item = await manage(second, ADMIN.username);
  await item.getByRole('button', { name: 'Enable' }).click();
  await expect(item.getByRole('status')).toHaveText('admin may sign in again. Their sessions were ended.');
  await second.context().close();
});

test('10.1 a user changes their own password, which ends their other sessions, and ends a session elsewhere', async ({
  page,
  browser,
  app,
}) => {
  await signIn(page);
  const elsewhere = await pageAs(browser, app.url, ADMIN);
  const third = await pageAs(browser, app.url, ADMIN);
  await page.getByRole('link', { name: 'admin · admin' }).click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  const sessions = page.getByRole('list', { name: 'Your sessions' });
  await expect(sessions.getByRole('listitem')).toHaveCount(3);
  await expect(sessions.getByText('(this browser)')).toHaveCount(1);
  await sessions.getByRole('button', { name: 'Sign out there' }).first().click();
  await expect(sessions.getByRole('listitem')).toHaveCount(2);
  const stillIn = [await signedIn(elsewhere), await signedIn(third)];
  expect(stillIn.filter(Boolean)).toHaveLength(1);

  await page.goto('/settings/account');
  const form = page.getByRole('form', { name: 'Change your password' });
  await form.getByLabel('Current password').fill('not my password');
  await form.getByLabel('New password', { exact: true }).fill('a brand new admin password');
  await form.getByLabel('Repeat new password').fill('a brand new admin password');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByText('This is not your password')).toBeVisible();
  await form.getByLabel('Current password').fill(ADMIN.password);
  await form.getByLabel('New password', { exact: true }).fill('a brand new admin password');
  await form.getByLabel('Repeat new password').fill('a brand new admin password');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('status')).toHaveText('Your password was changed; your other sessions were ended.');
  expect([await signedIn(elsewhere), await signedIn(third)]).toEqual([false, false]);
  expect(await signedIn(page)).toBe(true);
  await signInFails(browser, app.url, ADMIN);
  // Put back for the tests after this one.
  await page.goto('/settings/account');
  await form.getByLabel('Current password').fill('a brand new admin password');
  await form.getByLabel('New password', { exact: true }).fill(ADMIN.password);
  await form.getByLabel('Repeat new password').fill(ADMIN.password);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('status')).toBeVisible();
  await elsewhere.context().close();
  await third.context().close();
});

test('10.1 the live event stream ends at sign-out and when its session expires', async ({ browser, app }) => {
  /** Opens the event stream in the page and resolves when the server ends it. */
  const stream = (page: Page) =>
    page.evaluate(async () => {
      const res = await fetch('/api/events');
      const reader = res.body!.getReader();
      while (!(await reader.read()).done);
      return 'ended';
    });
  const page = await pageAs(browser, app.url, ADMIN);
  const ended = stream(page);
  const sameBrowser = await page.context().newPage();
  await sameBrowser.goto('/');
  await sameBrowser.getByRole('button', { name: 'Sign out' }).click();
  await expect(sameBrowser).toHaveURL(/\/login$/);
  expect(await waitFor('the event stream to end at sign-out', ended, 10_000)).toBe('ended');

  const expiring = await pageAs(browser, app.url, ADMIN);
  const endedToo = stream(expiring);
  const db = new Database(path.join(app.dataDir, 'lifeline.db'));
  try {
    // Every session of the admin expires now (as twelve hours later).
    db.prepare('UPDATE sessions SET expires_at = ? WHERE user_id = (SELECT id FROM users WHERE username = ?)').run(
      Date.now() - 1,
      ADMIN.username,
    );
  } finally {
    db.close();
  }
  expect(await waitFor('the event stream to end at expiry', endedToo, 10_000)).toBe('ended');
  await page.context().close();
  await expiring.context().close();
});
