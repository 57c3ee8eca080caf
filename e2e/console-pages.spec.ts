// 16.2: the rough edges of the console, each as a user meets it: the icon, an unknown snapshot, a comparison opened
// without a choice, page titles, the navigation's current page, times in the browser's zone and ages that tick,
// "Back up now" saying what became of its job, and a failed backup on the Backups page.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { waitFor } from '../test/support/wait';
import { expect, test } from './support/app';
import { addSource, SEEDED_ADMIN, signIn, sourceRow, visible } from './support/steps';

test.describe.configure({ mode: 'serial' });
test.use({ serverEnv: SEEDED_ADMIN, timezoneId: 'Asia/Tokyo' });

const dirs: string[] = [];
test.afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('16.2 /favicon.ico is the console’s icon, signed in or not', async ({ request }) => {
  const answer = await request.get('/favicon.ico', { maxRedirects: 0 });
  expect(answer.status()).toBe(200);
  expect(answer.headers()['content-type']).toMatch(/^image\//);
  expect((await answer.body()).subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0]));
});

test('16.2 an unknown or malformed snapshot answers 404 and says there is no such snapshot; a comparison opened without a choice says how to make one', async ({
  page,
}) => {
  await signIn(page);
  for (const id of ['0'.repeat(64), 'not-a-snapshot']) {
    const answer = await page.goto(`/snapshots/${id}`);
    expect(answer?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('No such snapshot.');
  }
  await page.goto('/snapshots/compare');
  await expect(page.getByRole('main').getByRole('alert')).toHaveCount(0);
  await expect(page.getByRole('main')).toContainText('Choose an older and a newer snapshot');
  await page.goto(`/snapshots/compare?a=${'0'.repeat(64)}`);
  await expect(page.getByRole('main').getByRole('alert')).toHaveText('Pick the newer snapshot.');
  const unknown = await page.goto('/no-such-page');
  expect(unknown?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Not found');
});

test('16.2 each page has a title of its own, and the navigation marks the page it is on', async ({
  page,
  browser,
  app,
}) => {
  await signIn(page);
  for (const [href, title] of [
    ['/', 'Overview'],
    ['/backups', 'Backups'],
    ['/snapshots', 'Snapshots'],
    ['/restore', 'Restore'],
    ['/nodes', 'Nodes'],
    ['/activity', 'Activity'],
    ['/settings/repository', 'Repository'],
    ['/settings/notifications', 'Notifications'],
    ['/settings/users', 'Users'],
  ]) {
    await page.goto(href);
    await expect(page).toHaveTitle(`${title} · Lifeline`);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.locator('[aria-current="page"]')).toHaveText(title);
  }
  const signedOut = await (await browser.newContext({ baseURL: app.url })).newPage();
  await signedOut.goto('/login');
  await expect(signedOut).toHaveTitle('Sign in · Lifeline');
  await signedOut.context().close();
});

test('16.2 times show in the browser’s time zone, and a backup’s age ticks; a failed backup shows as failed, with its error and the last good one', async ({
  page,
}) => {
  await signIn(page);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-pages-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'a.txt'), 'a file');
  await addSource(page, 'ticking', dir);
  const row = sourceRow(page, 'ticking');
  await row.getByRole('button', { name: 'Back up now' }).click();
  const age = row.getByRole('cell', { name: /\d+ (s|min) ago$/ });
  await waitFor('the backup’s age', visible(age), 60_000);
  const first = await age.textContent();
  await waitFor('the age to tick', async () => (await age.textContent()) !== first, 10_000);
  // What the button said follows the job to its end: never "queued" once it is done.
  await expect(row.getByRole('status')).toHaveText(/^Backup job \d+ done\.$/);

  // The snapshot's time, in the browser's zone (Tokyo here, the server's is UTC).
  await page.goto('/snapshots');
  const time = page.getByRole('main').locator('table time').first();
  await expect(time).not.toHaveText(/UTC/);
  const { shown, expected } = await time.evaluate((el: HTMLTimeElement) => ({
    shown: el.textContent,
    expected: new Date(el.dateTime).toLocaleString(),
  }));
  expect(shown).toBe(expected);
  expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe('Asia/Tokyo');

  // A source whose directory went away: its backup fails, and the row says so.
  const gone = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-gone-'));
  mkdirSync(path.join(gone, 'sub'));
  await addSource(page, 'vanishing', path.join(gone, 'sub'));
  rmSync(gone, { recursive: true, force: true });
  const failing = sourceRow(page, 'vanishing');
  await failing.getByRole('button', { name: 'Back up now' }).click();
  await waitFor('the failed backup on its row', visible(failing.getByText(/^failed \d+ s ago$/)), 60_000);
  await expect(failing).toContainText('last good: never');
});

test('16.5 a failed backup is marked on its source’s RPO chart, in each time range that holds it', async ({ page }) => {
  await signIn(page);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-marks-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'a.txt'), 'a file');
  await addSource(page, 'marked', dir);
  const row = sourceRow(page, 'marked');
  await row.getByRole('button', { name: 'Back up now' }).click();
  await expect(row.getByRole('status')).toHaveText(/^Backup job \d+ done\.$/, { timeout: 60_000 });
  // Its directory goes: the next backup fails.
  rmSync(dir, { recursive: true, force: true });
  await page.reload();
  await row.getByRole('button', { name: 'Back up now' }).click();
  await expect(row.getByRole('status')).toHaveText(/^Backup job \d+ failed: /, { timeout: 60_000 });

  await page.goto('/');
  const chart = page.getByRole('figure', { name: 'RPO over time of marked' });
  const marks = chart.getByRole('list', { name: 'Marked on the chart' });
  await expect(marks.getByRole('listitem')).toHaveText([/backup failed$/]);
  const ranges = page.getByRole('navigation', { name: 'Time range' });
  await expect(ranges.getByRole('link', { name: 'day' })).toHaveAttribute('aria-current', 'true');
  for (const range of ['hour', 'week', 'month']) {
    await ranges.getByRole('link', { name: range }).click();
    await expect(page).toHaveURL(new RegExp(`\\?range=${range}$`));
    await expect(page.getByRole('heading', { name: `RPO over the last ${range}` })).toBeVisible();
    await expect(ranges.getByRole('link', { name: range })).toHaveAttribute('aria-current', 'true');
    await expect(marks.getByRole('listitem')).toHaveText([/backup failed$/]);
  }
});
