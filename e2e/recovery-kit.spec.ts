import { readFileSync } from 'node:fs';
import path from 'node:path';

import { expect, test } from './support/app';
import { SEEDED_ADMIN, signIn } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });

test('the recovery kit is shown until saved, downloads with the passphrase, and the warning goes away', async ({
  page,
  app,
}) => {
  await signIn(page);
  const warning = page.getByRole('alert').filter({ hasText: 'recovery kit has not been saved' });
  await expect(warning).toBeVisible();
  await warning.getByRole('link', { name: 'Save the recovery kit' }).click();

  const passphrase = readFileSync(path.join(app.dataDir, 'secrets', 'repository.passphrase'), 'utf8').trim();
  const kit = page.getByLabel('Recovery kit');
  await expect(kit).toContainText(`Repository: ${path.join(app.dataDir, 'repository')}`);
  await expect(kit).toContainText(`Passphrase: ${passphrase}`);

  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download recovery kit' }).click();
  const file = await (await download).path();
  expect(readFileSync(file, 'utf8')).toContain(`Passphrase: ${passphrase}`);

  await page.getByRole('button', { name: 'I have saved it' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(warning).toHaveCount(0);
  await page.goto('/settings/recovery-kit');
  await expect(page.getByText('The recovery kit was saved. It is not shown again.')).toBeVisible();
  const again = await page.request.get('/api/recovery-kit');
  expect(again.status()).toBe(410);
});

test('the passphrase and the control-plane database are readable by the server user alone', async ({ app }) => {
  const { statSync } = await import('node:fs');
  expect(statSync(path.join(app.dataDir, 'lifeline.db')).mode & 0o777).toBe(0o600);
  expect(statSync(path.join(app.dataDir, 'secrets', 'repository.passphrase')).mode & 0o777).toBe(0o600);
  expect(statSync(path.join(app.dataDir, 'secrets')).mode & 0o777).toBe(0o700);
});
