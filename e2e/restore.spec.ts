import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Page } from '@playwright/test';

import { expect, test } from './support/app';
import { waitFor } from '../test/support/wait';
import { addSource, addUser, SEEDED_ADMIN, shows, signIn, sourceRow, visible } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });
test.describe.configure({ mode: 'serial' });

let source: string;
let target: string;
const readme = 'the original readme\n';
test.beforeAll(() => {
  source = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-site-'));
  target = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-target-'));
  mkdirSync(path.join(source, 'docs'));
  writeFileSync(path.join(source, 'docs', 'readme.txt'), readme);
  writeFileSync(path.join(source, 'index.html'), '<h1>site</h1>\n');
});
test.afterAll(() => {
  rmSync(source, { recursive: true, force: true });
  rmSync(target, { recursive: true, force: true });
});

async function chooseSnapshot(page: Page) {
  await page.goto('/restore');
  await expect(page.getByRole('heading', { name: 'Source and point in time' })).toBeVisible();
  await page.getByLabel('Source').selectOption({ label: 'site' });
  await page.getByRole('button', { name: 'Next' }).click();
}

/** From a preview that asks for the typed name: the button waits for it, and the restore is verified. */
async function confirmAndRestore(page: Page) {
  const restore = page.getByRole('button', { name: 'Restore' });
  await expect(restore).toBeDisabled();
  await page.getByLabel('Type site to confirm').fill('site');
  await restore.click();
  const result = page.getByRole('status', { name: 'Restore result' });
  await waitFor('the restore to be verified', shows(result, 'Restored and verified'), 30_000);
  return result;
}

/** The whole snapshot, to another directory: as far as its preview. */
async function previewElsewhere(page: Page, dir: string) {
  await chooseSnapshot(page);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Another directory').check();
  await page.getByLabel('Target directory').fill(dir);
  await page.getByRole('button', { name: 'Preview' }).click();
}

test('a backup of the source exists to restore from', async ({ page }) => {
  await signIn(page);
  await addSource(page, 'site', source);
  const row = sourceRow(page, 'site');
  await row.getByRole('button', { name: 'Back up now' }).click();
  await waitFor('the backup of site to finish', visible(row.getByRole('cell', { name: /ago$/ })), 30_000);
});

test('guided restore of one file to another directory: the file equals the original, verified and timed', async ({
  page,
}) => {
  await signIn(page);
  await chooseSnapshot(page);
  await expect(page.getByRole('heading', { name: 'What to restore' })).toBeVisible();
  await page.getByLabel('Pick files and folders').check();
  const browser = page.getByRole('region', { name: 'Snapshot browser' });
  await browser.getByRole('button', { name: 'docs/' }).click();
  await browser.getByLabel(`Restore ${path.join(source, 'docs', 'readme.txt')}`).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Another directory').check();
  await page.getByLabel('Target directory').fill(target);
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByRole('heading', { name: 'Preview and confirm' })).toBeVisible();
  await expect(page.getByText('Will create 1, overwrite 0 and delete 0 entries.')).toBeVisible();
  await page.getByRole('button', { name: 'Restore' }).click();
  const result = page.getByRole('status', { name: 'Restore result' });
  await waitFor('the restore to be verified', shows(result, 'Restored and verified'), 30_000);
  await expect(result).toContainText(/Took \d+\.\d s/);
  expect(readFileSync(path.join(target, source, 'docs', 'readme.txt'), 'utf8')).toBe(readme);
  expect(() => readFileSync(path.join(target, source, 'index.html'))).toThrow();
});

test('a restore in place asks for the typed name and takes a safety snapshot first', async ({ page }) => {
  writeFileSync(path.join(source, 'docs', 'readme.txt'), 'damaged by mistake\n');
  await signIn(page);
  await chooseSnapshot(page);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('The original location (overwrites what is there)').check();
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByText(/overwrite [1-9]/)).toBeVisible();
  const restore = page.getByRole('button', { name: 'Restore' });
  await expect(restore).toBeDisabled();
  await page.getByLabel('Type site to confirm').fill('sit');
  await expect(restore).toBeDisabled();
  await page.getByLabel('Type site to confirm').fill('site');
  await restore.click();
  const result = page.getByRole('status', { name: 'Restore result' });
  await waitFor('the restore to be verified', shows(result, 'Restored and verified'), 30_000);
  await expect(result).toContainText('Safety snapshot taken first');
  expect(readFileSync(path.join(source, 'docs', 'readme.txt'), 'utf8')).toBe(readme);
  await page.goto('/snapshots');
  await expect(page.getByRole('cell', { name: 'local:site' })).toHaveCount(2);
});

test('the overview shows the measured restore time, on the tile and in the RTO chart', async ({ page }) => {
  await signIn(page);
  await expect(page.getByRole('article', { name: 'RPO of site' })).toContainText(/Last restore took \d+\.\d s/);
  const rto = page.getByRole('figure', { name: 'Recovery time (RTO): restores, failovers, drills' });
  await expect(rto.locator('.recharts-bar-rectangle')).toHaveCount(2);
  await expect(page.getByRole('figure', { name: 'RPO over time of site' })).toBeVisible();
});

test("browse a snapshot's tree, and compare two snapshots: the damaged file shows as changed", async ({ page }) => {
  await signIn(page);
  await page.goto('/snapshots');
  const links = page
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name: 'local:site' }) })
    .getByRole('link');
  const hrefs = await links.evaluateAll((els) => els.map((el) => el.getAttribute('href')!));
  expect(hrefs).toHaveLength(2);
  const [newer, older] = hrefs.map((h) => h.split('/').pop()!);

  await page.goto(`/snapshots/${older}?path=${encodeURIComponent(source)}`);
  await page.getByRole('link', { name: 'docs/' }).click();
  await expect(page.getByRole('cell', { name: 'readme.txt', exact: true })).toBeVisible();

  await page.goto('/snapshots');
  const compare = page.getByRole('form', { name: 'Compare two snapshots' });
  await compare.getByLabel('Older').selectOption(older);
  await compare.getByLabel('Newer').selectOption(newer);
  await compare.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByText('0 added, 0 removed, 1 changed')).toBeVisible();
  await expect(page.getByRole('cell', { name: path.join(source, 'docs', 'readme.txt') })).toBeVisible();
});

test('a target that resolves to / is refused: a restore elsewhere can never become one in place', async ({ page }) => {
  await signIn(page);
  await chooseSnapshot(page);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Another directory').check();
  for (const target of ['//', '/tmp/..', '/.']) {
    await page.getByLabel('Target directory').fill(target);
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(
      page.getByRole('alert').filter({ hasText: 'Give an absolute directory to restore into (not /)' }),
    ).toBeVisible();
  }
});

test('09.5 a target that is / once resolved (/proc/self/root, a link to /) is refused in the preview, and nothing is written', async ({
  page,
}) => {
  const links = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-links-'));
  try {
    symlinkSync('/', path.join(links, 'to-root'));
    writeFileSync(path.join(source, 'docs', 'readme.txt'), 'changed since the backup\n');
    await signIn(page);
    await chooseSnapshot(page);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Another directory').check();
    for (const to of ['/proc/self/root', '/proc/thread-self/root', path.join(links, 'to-root')]) {
      await page.getByLabel('Target directory').fill(to);
      await page.getByRole('button', { name: 'Preview' }).click();
      await expect(page.getByRole('alert').filter({ hasText: 'is / once resolved' })).toContainText(to);
      await expect(page.getByRole('heading', { name: 'Where to restore' })).toBeVisible();
    }
    expect(readFileSync(path.join(source, 'docs', 'readme.txt'), 'utf8')).toBe('changed since the backup\n');
  } finally {
    writeFileSync(path.join(source, 'docs', 'readme.txt'), readme);
    rmSync(links, { recursive: true, force: true });
  }
});

test('09.5 into a directory that holds files: an operator is refused; an administrator confirms by name, and a safety snapshot of it is taken first', async ({
  page,
  browser,
  app,
}) => {
  const full = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-full-'));
  const operator = { username: 'restorer', password: 'an operator password' };
  try {
    writeFileSync(path.join(full, 'notes.txt'), 'the operator’s notes');
    await signIn(page);
    await addUser(page, operator, 'operator');

    const context = await browser.newContext({ baseURL: app.url });
    const asOperator = await context.newPage();
    await signIn(asOperator, operator);
    await previewElsewhere(asOperator, full);
    await expect(
      asOperator
        .getByRole('alert')
        .filter({ hasText: 'restore into a new or empty directory, or ask an administrator' }),
    ).toContainText(`The target directory ${full} is not empty`);
    await context.close();
    expect(readdirSync(full)).toEqual(['notes.txt']);

    await previewElsewhere(page, full);
    await expect(page.getByRole('alert').filter({ hasText: 'is not empty' })).toContainText(
      'A safety snapshot of the directory is taken first',
    );
    const result = await confirmAndRestore(page);
    await expect(result).toContainText('Safety snapshot');
    expect(readFileSync(path.join(full, source, 'index.html'), 'utf8')).toBe('<h1>site</h1>\n');
    expect(readFileSync(path.join(full, 'notes.txt'), 'utf8')).toBe('the operator’s notes');
  } finally {
    rmSync(full, { recursive: true, force: true });
  }
});

test('08.2 a file of the snapshot where the target has a directory: the preview lists it with its file count, and the typed name confirms it', async ({
  page,
}) => {
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-replace-'));
  try {
    // Where the snapshot has the file index.html, the target has a directory of two files.
    const inTheWay = path.join(elsewhere, source, 'index.html');
    mkdirSync(inTheWay, { recursive: true });
    writeFileSync(path.join(inTheWay, 'a.txt'), 'a');
    writeFileSync(path.join(inTheWay, 'b.txt'), 'b');
    await signIn(page);
    await previewElsewhere(page, elsewhere);
    const warning = page.getByRole('alert').filter({ hasText: 'replaced by what the snapshot has there' });
    await expect(warning).toContainText(`${inTheWay} (2 files)`);
    await confirmAndRestore(page);
    expect(readFileSync(inTheWay, 'utf8')).toBe('<h1>site</h1>\n');
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
});
