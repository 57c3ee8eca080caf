// Steps several specs take the same way.
import type { Locator, Page } from '@playwright/test';

import { expect } from './app';
import { waitFor } from '../../test/support/wait';

export const ADMIN = { username: 'admin', password: 'an admin password' };
/** Server environment that creates ADMIN at start, skipping the setup page. */
export const SEEDED_ADMIN = { LIFELINE_ADMIN_USER: ADMIN.username, LIFELINE_ADMIN_PASSWORD: ADMIN.password };

export async function signIn(page: Page, who: { username: string; password: string } = ADMIN): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
}

/** Adds a user on the Users page (as an admin) and leaves the page there. */
export async function addUser(
  page: Page,
  who: { username: string; password: string },
  role: 'admin' | 'operator' | 'viewer',
): Promise<void> {
  await page.goto('/settings/users');
  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('Username').fill(who.username);
  await form.getByLabel('Password').fill(who.password);
  await form.getByLabel('Role').selectOption(role);
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.getByRole('status')).toHaveText(`User ${who.username} added as ${role}.`);
}

/** Adds a directory source on the Backups page and leaves the page there. */
export async function addSource(page: Page, name: string, dir: string): Promise<void> {
  await page.goto('/backups');
  const form = page.getByRole('form', { name: 'Add a source' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Path').fill(dir);
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(form.getByRole('status')).toHaveText(`Source ${name} added.`);
}

export function sourceRow(page: Page, name: string) {
  return page
    .getByRole('table', { name: 'Sources' })
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name, exact: true }) });
}

/** The demo cluster's stable endpoint, as the Nodes page shows it (http://HOST:PORT). */
export async function demoEndpoint(page: Page): Promise<string> {
  return (await page.getByRole('region', { name: 'Demo cluster' }).locator('.font-mono').first().textContent())!.trim();
}

/** Signs in, opens the Nodes page, and waits for demo-a to serve: the demo group's region and its two nodes. */
export async function demoGroupServing(page: Page) {
  await signIn(page);
  await page.goto('/nodes');
  const group = page.getByRole('region', { name: 'Group demo-notes' });
  const a = group.getByRole('article', { name: 'Node demo-a' });
  const b = group.getByRole('article', { name: 'Node demo-b' });
  await waitFor('demo-a to serve', shows(a, 'Serving'), 60_000);
  return { group, a, b };
}

/** Whether a write through the demo's endpoint `url` is acknowledged now (a fresh sequence number each time). */
export async function endpointServes(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/writes`, {
      method: 'POST',
      body: JSON.stringify({ seq: 1_000_000 + Math.floor(Math.random() * 1e9) }),
      signal: AbortSignal.timeout(2000),
    });
    return res.status === 201;
  } catch {
    return false;
  }
}

export function planRow(page: Page, name: string) {
  return page
    .getByRole('table', { name: 'Plans' })
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name, exact: true }) });
}

/** For waitFor: whether `locator` shows `text` now (its text, whitespace collapsed, contains it or matches it). */
export function shows(locator: Locator, text: string | RegExp): () => Promise<boolean> {
  return async () => {
    const now = ((await locator.textContent({ timeout: 1000 })) ?? '').replace(/\s+/g, ' ');
    if (typeof text === 'string' ? now.includes(text) : text.test(now)) return true;
    throw new Error(`it shows "${now.slice(0, 200)}"`);
  };
}

/** For waitFor: whether `locator` is visible now. */
export function visible(locator: Locator): () => Promise<boolean> {
  return () => locator.isVisible();
}

/** A second tab of `page`'s session whose event stream is held until `release()`: what the control plane publishes
 *  meanwhile, it does not hear (as a page whose stream opens late, or is down a while). */
export async function tabWithHeldEvents(page: Page): Promise<{ tab: Page; release: () => void }> {
  const tab = await page.context().newPage();
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  await tab.route('**/api/events', async (route) => {
    await held;
    await route.continue();
  });
  return { tab, release };
}
