// 16.3 every job has a page: opened from "Back up now" while the backup runs, it follows the job live (status,
// progress, steps, log, the skipped file) to its figures; the Activity feed links to it; a verify of the repository
// started from Settings has one too; an address that names no job is not found.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { expect, test } from './support/app';
import { addSource, SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });
test.describe.configure({ mode: 'serial' });

let dir: string;
let socket: net.Server;
test.beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-jobs-'));
  // Enough data that the backup is still running when its page opens.
  for (let i = 0; i < 8; i++) writeFileSync(path.join(dir, `blob-${i}.bin`), randomBytes(25 * 1024 * 1024));
  // A socket is never backed up: the job's one skipped file.
  socket = net.createServer();
  await new Promise<void>((resolve) => socket.listen(path.join(dir, 'app.sock'), resolve));
});
test.afterAll(() => {
  socket.close();
  rmSync(dir, { recursive: true, force: true });
});

test('16.3 a backup’s page, opened from Back up now as it runs, follows it live to its end: status, steps, log, the skipped file, and its figures', async ({
  page,
}) => {
  await signIn(page);
  await addSource(page, 'photos', dir);
  await sourceRow(page, 'photos').getByRole('button', { name: 'Back up now' }).click();
  const link = sourceRow(page, 'photos').getByRole('link', { name: /^Job \d+$/ });
  const id = Number((await link.textContent())!.replace('Job ', ''));
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${id}$`));
  await expect(page).toHaveTitle(`Backup of photos (job ${id}) · Lifeline`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Backup of photos (job ${id})`);
  const status = page.getByRole('region', { name: 'Progress' }).getByRole('status');
  // Opened while the job had not ended: what follows arrives without a reload.
  expect(['queued', 'running']).toContain(await status.textContent());
  await expect(status).toHaveText('succeeded', { timeout: 60_000 });

  await expect(page.getByRole('list', { name: 'Steps' }).getByRole('listitem')).toHaveText([
    new RegExp(`^Back up ${dir}done · \\d+\\.\\d s$`),
    /^Compare what the backup added with the source's earlier backupssucceeded · \d+\.\d s$/,
  ]);
  await expect(page.getByRole('heading', { name: 'Warnings and skipped files (1)' })).toBeVisible();
  const warning = page.getByRole('table', { name: 'Warnings' }).getByRole('row').nth(1);
  await expect(warning).toContainText(path.join(dir, 'app.sock'));
  await expect(warning).toContainText('socket not backed up: special files are never read');
  const log = page.getByRole('log');
  await expect(log).toContainText('saving the files that changed');
  await expect(log).toContainText(/Succeeded after \d+\.\d s: 1 entry was skipped/);
  const figures = page.getByRole('region', { name: 'Figures' });
  await expect(figures).toContainText('Requested byadmin');
  await expect(figures).toContainText('Size200.0 MiB');
  await figures.getByRole('link', { name: /^[0-9a-f]{8}$/ }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Snapshot [0-9a-f]{8}$/);

  // The Activity feed links to the same page.
  await page.goto('/activity?show=jobs');
  await page.getByRole('link', { name: 'backup of photos: succeeded' }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${id}$`));
});

test('16.3 a verify of the repository, from Settings → Repository, is a job with a page of its own', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/settings/repository');
  const upkeep = page.getByRole('region', { name: 'Upkeep' });
  await upkeep.getByRole('button', { name: 'Verify now' }).click();
  await expect(upkeep.getByRole('status')).toHaveText(/^Verify job \d+ done\.$/, { timeout: 60_000 });
  await upkeep.getByRole('link', { name: /^Job \d+$/ }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Verify of the repository \(job \d+\)$/);
  await expect(page.getByRole('list', { name: 'Steps' })).toContainText(
    "Verify the repository's structure, and read back 10 % of its data",
  );
  await expect(page.getByRole('log')).toContainText(/\d+ snapshots and \d+ packs checked/);
});

test('16.3 an address that names no job answers 404 and says so', async ({ page }) => {
  await signIn(page);
  for (const ref of ['999999', 'abc', '0', 'failover-999999', 'drill-x', '1.5']) {
    const answer = await page.goto(`/jobs/${ref}`);
    expect(answer?.status(), ref).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('No such job.');
  }
});
