import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, test } from './support/app';
import { SEEDED_ADMIN, signIn } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });

test('attach an existing repository: a wrong passphrase is refused next to its field, the right one shows its snapshots', async ({
  page,
}) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-existing-'));
  try {
    const repo = path.join(work, 'repo');
    const data = path.join(work, 'data');
    execFileSync('mkdir', [data]);
    writeFileSync(path.join(data, 'file.txt'), 'kept elsewhere');
    const env = { ...process.env, LIFELINE_PASSWORD: 'existing passphrase' };
    execFileSync(process.execPath, ['bin/lifeline.cjs', 'init', '--repo', repo], { env });
    execFileSync(
      process.execPath,
      ['bin/lifeline.cjs', 'backup', '--repo', repo, '--node', 'db1', '--source', 'orders', data],
      { env },
    );

    await signIn(page);
    await page.goto('/settings/repository');
    const form = page.getByRole('form', { name: 'Attach a repository' });
    await form.getByLabel('Repository directory').fill(path.join(work, 'nothing-here'));
    await form.getByLabel('Passphrase').fill('existing passphrase');
    await form.getByRole('button', { name: 'Attach repository' }).click();
    await expect(form.getByText(/there is no repository at/)).toBeVisible();

    await form.getByLabel('Repository directory').fill(repo);
    await form.getByLabel('Passphrase').fill('not the passphrase');
    await form.getByRole('button', { name: 'Attach repository' }).click();
    await expect(form.getByText(/wrong passphrase/)).toBeVisible();

    await form.getByLabel('Repository directory').fill(repo);
    await form.getByLabel('Passphrase').fill('existing passphrase');
    await form.getByRole('button', { name: 'Attach repository' }).click();
    await expect(form.getByRole('status')).toHaveText(`Attached ${repo}.`);
    await page.goto('/snapshots');
    await expect(page.getByRole('cell', { name: 'db1:orders' })).toBeVisible();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
