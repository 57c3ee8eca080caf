// 16.4 downloads from a snapshot: an operator or admin takes a file, or a folder as a tar stream, from the
// snapshot's page; the bytes are the originals; each download is audited. A viewer is offered none and refused
// one asked for by hand; a path the snapshot does not hold, a malformed one, or a signed-out caller get a clear
// refusal and nothing else.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, test } from './support/app';
import { addSource, addUser, SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });
test.describe.configure({ mode: 'serial' });

const viewer = { username: 'reader', password: 'a viewer password' };
let dir: string;
let big: Buffer;
let snapshot: string;
const scratch: string[] = [];
test.beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-downloads-'));
  mkdirSync(path.join(dir, 'reports', 'q3'), { recursive: true });
  big = randomBytes(6 << 20);
  writeFileSync(path.join(dir, 'big.bin'), big);
  writeFileSync(path.join(dir, 'reports', 'summary.txt'), 'the year in numbers\n');
  writeFileSync(path.join(dir, 'reports', 'q3', 'sales.csv'), 'month,total\njuly,12\n');
});
test.afterAll(() => {
  for (const d of [dir, ...scratch]) rmSync(d, { recursive: true, force: true });
});

test('16.4 an admin downloads a file and a folder (as tar) from a snapshot: the bytes are the originals, and each download is audited', async ({
  page,
}) => {
  await signIn(page);
  await addSource(page, 'files', dir);
  await sourceRow(page, 'files').getByRole('button', { name: 'Back up now' }).click();
  await sourceRow(page, 'files')
    .getByRole('link', { name: /^Job \d+$/ })
    .click();
  await expect(page.getByRole('region', { name: 'Progress' }).getByRole('status')).toHaveText('succeeded', {
    timeout: 60_000,
  });
  await page
    .getByRole('region', { name: 'Figures' })
    .getByRole('link', { name: /^[0-9a-f]{8}$/ })
    .click();
  await expect(page).toHaveURL(/\/snapshots\/[0-9a-f]{64}$/);
  snapshot = page.url().split('/snapshots/')[1];

  await page.goto(`/snapshots/${snapshot}?path=${encodeURIComponent(dir)}`);
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download big.bin' }).click(),
  ]);
  expect(file.suggestedFilename()).toBe('big.bin');
  expect(readFileSync(await file.path()).equals(big)).toBe(true);

  await page.goto(`/snapshots/${snapshot}?path=${encodeURIComponent(path.join(dir, 'reports'))}`);
  const [folder] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download this folder (tar)' }).click(),
  ]);
  expect(folder.suggestedFilename()).toBe('reports.tar');
  const into = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-unpacked-'));
  scratch.push(into);
  const tar = spawnSync('tar', ['-xf', await folder.path(), '-C', into]);
  expect(tar.status, tar.stderr.toString()).toBe(0);
  expect(readFileSync(path.join(into, 'reports', 'summary.txt'), 'utf8')).toBe('the year in numbers\n');
  expect(readFileSync(path.join(into, 'reports', 'q3', 'sales.csv'), 'utf8')).toBe('month,total\njuly,12\n');

  await page.goto('/activity?show=actions');
  const main = page.getByRole('main');
  await expect(main).toContainText(`download: ${snapshot.slice(0, 8)}:${path.join(dir, 'big.bin')}`);
  await expect(main).toContainText(`download: ${snapshot.slice(0, 8)}:${path.join(dir, 'reports')}`);
});

test('16.4 a path the snapshot does not hold, a malformed one, an unknown snapshot and a signed-out caller are refused, each with a clear answer', async ({
  page,
  app,
}) => {
  await signIn(page);
  const url = (id: string, p: string) => `/api/snapshots/${id}/download?path=${encodeURIComponent(p)}`;
  const missing = await page.request.get(url(snapshot, path.join(dir, 'nope.txt')));
  expect(missing.status()).toBe(404);
  expect(await missing.json()).toEqual({ error: `${path.join(dir, 'nope.txt')} is not in the snapshot` });
  for (const bad of ['relative/path', '']) {
    const answer = await page.request.get(url(snapshot, bad));
    expect(answer.status(), bad).toBe(400);
    expect(await answer.json()).toEqual({ error: 'give ?path= an absolute path in the snapshot' });
  }
  // Climbing out of the snapshot climbs no further than its root.
  const climbing = await page.request.get(url(snapshot, '/../../../etc/passwd'));
  expect(climbing.status()).toBe(404);
  expect(await climbing.json()).toEqual({ error: '/etc/passwd is not in the snapshot' });
  for (const id of ['0'.repeat(64), 'not-a-snapshot']) {
    const answer = await page.request.get(url(id, '/'));
    expect(answer.status(), id).toBe(404);
    expect(await answer.json()).toEqual({ error: 'no such snapshot' });
  }
  const signedOut = await fetch(`${app.url}${url(snapshot, dir)}`, { redirect: 'manual' });
  expect(signedOut.status).toBe(401);
  expect(signedOut.headers.get('content-disposition')).toBeNull();

  await page.goto('/activity?show=failures');
  await expect(page.getByRole('main')).toContainText(`download: ${snapshot.slice(0, 8)}:${path.join(dir, 'nope.txt')}`);
});

test('16.4 a viewer is offered no download, and one asked for by hand is refused', async ({ page, browser, app }) => {
  await signIn(page);
  await addUser(page, viewer, 'viewer');
  const context = await browser.newContext({ baseURL: app.url });
  const other = await context.newPage();
  await signIn(other, viewer);
  await other.goto(`/snapshots/${snapshot}?path=${encodeURIComponent(dir)}`);
  await expect(other.getByRole('cell', { name: 'big.bin', exact: true })).toBeVisible();
  await expect(other.getByRole('link', { name: /^Download/ })).toHaveCount(0);
  const asked = await other.request.get(
    `/api/snapshots/${snapshot}/download?path=${encodeURIComponent(path.join(dir, 'big.bin'))}`,
  );
  expect(asked.status()).toBe(403);
  expect(await asked.json()).toEqual({ error: 'downloads are for operators and admins' });
  expect(asked.headers()['content-disposition']).toBeUndefined();
  await context.close();
});
