// 16.6 (and 16.2's hydration defect): every page of the console, signed in as an administrator with the demo
// group running (its node tiles are live): no console error and no page error, on a laptop in either theme and on a
// phone (375 px) where nothing overflows sideways and the navigation opens from its Menu button; and axe-core finds
// no serious or critical accessibility violation, in the light theme or the dark (each follows the system's choice).
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';

import { waitFor } from '../test/support/wait';
import { expect, test } from './support/app';
import { SEEDED_ADMIN, shows, signIn } from './support/steps';

test.use({ serverEnv: { ...SEEDED_ADMIN, LIFELINE_DEMO: '1', LIFELINE_DEMO_COORDINATION: 'dashboard' } });
test.describe.configure({ mode: 'serial', timeout: 300_000 });

const PAGES = [
  '/',
  '/backups',
  '/snapshots',
  '/snapshots/compare',
  '/restore',
  '/nodes',
  '/activity',
  '/statistics',
  '/settings/account',
  '/settings/repository',
  '/settings/notifications',
  '/settings/metrics',
  '/settings/users',
  '/settings/coordination',
  '/settings/recovery-kit',
];

/** PAGES, and the pages of a job and of the demo group's start (found by the first test, 16.3). */
const pages = [...PAGES];

/** Errors the page logs, or throws, from now on. */
function errorsOf(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  return errors;
}

test('16.3 the demo group serves, and a job and the group’s start have pages (the pages below visit them too)', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/nodes');
  const group = page.getByRole('region', { name: 'Group demo-notes' });
  await waitFor('demo-a to serve', shows(group.getByRole('article', { name: 'Node demo-a' }), 'Serving'), 60_000);
  const start = group.getByRole('table', { name: 'Failovers of demo-notes' }).getByRole('link').first();
  pages.push((await start.getAttribute('href'))!);
  await page.goto('/settings/repository');
  const upkeep = page.getByRole('region', { name: 'Upkeep' });
  await upkeep.getByRole('button', { name: 'Verify now' }).click();
  await expect(upkeep.getByRole('status')).toHaveText(/^Verify job \d+ done\.$/, { timeout: 60_000 });
  pages.push((await upkeep.getByRole('link', { name: /^Job \d+$/ }).getAttribute('href'))!);
});

test('16.6 on a phone (375 px) no page overflows sideways, and the navigation opens from its Menu button', async ({
  browser,
  app,
}) => {
  const context = await browser.newContext({ baseURL: app.url, viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  const errors = errorsOf(page);
  await signIn(page);
  for (const href of pages) {
    await page.goto(href);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${href} is ${width} px wide`).toBeLessThanOrEqual(375);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Backups' })).toBeHidden();
    await nav.getByRole('button', { name: 'Menu' }).click();
    await expect(nav.getByRole('link', { name: 'Backups' })).toBeVisible();
  }
  expect(errors).toEqual([]);
  await context.close();
});

test('16.2 and 16.6 every page, in the light theme and the dark: no console or page error (no hydration mismatch on the live tiles), and no serious or critical axe-core violation', async ({
  browser,
  app,
}) => {
  const found: string[] = [];
  const errors: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ baseURL: app.url, colorScheme });
    const page = await context.newPage();
    const seen = errorsOf(page);
    await signIn(page);
    for (const href of pages) {
      await page.goto(href);
      await page.waitForLoadState('networkidle');
      const { violations } = await new AxeBuilder({ page }).analyze();
      for (const v of violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'))
        found.push(
          `${colorScheme} ${href}: ${v.id} (${v.impact}): ${v.nodes
            .map((n) => n.target.join(' '))
            .slice(0, 3)
            .join(', ')}`,
        );
    }
    errors.push(...seen.map((e) => `${colorScheme} ${e}`));
    await context.close();
  }
  expect(errors).toEqual([]);
  expect(found).toEqual([]);
});
