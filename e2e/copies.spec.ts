// 12.3: a plan copies its snapshots into a second repository, an S3 bucket off this machine (a real radosgw on
// 127.0.0.1). The overview flags a source with no copy off the machine, then shows its RPO in each repository; the
// copy is a repository the recovery kit's passphrase opens, and its keys and passphrase are 0600 files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, test } from './support/app';
import { waitFor } from '../test/support/wait';
import { addSource, planRow, SEEDED_ADMIN, shows, signIn, sourceRow, visible } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });

test('12.3 a plan copies each backup into a bucket off this machine; the overview shows the RPO per repository, and the flag goes', async ({
  page,
  app,
  s3,
}) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-copies-'));
  try {
    const data = path.join(work, 'data');
    mkdirSync(data);
    writeFileSync(path.join(data, 'report.txt'), 'copied off the machine');
    await signIn(page);
    await addSource(page, 'docs', data);
    await sourceRow(page, 'docs').getByRole('button', { name: 'Back up now' }).click();
    await waitFor('the first backup to finish', visible(page.getByText('No job is running.')), 60_000);
    await page.goto('/');
    const tile = page.getByRole('article', { name: 'RPO of docs' });
    await expect(tile.getByText('No copy off this machine')).toBeVisible();

    // A new repository in the bucket, made with the recovery kit's passphrase.
    await page.goto('/settings/repository');
    const form = page.getByRole('form', { name: 'Add a repository for copies' });
    const fill = async (name: string, bucket = 'offsite-copies') => {
      await form.getByLabel('Name').fill(name);
      await form.getByLabel('An S3 bucket').check();
      await form.getByLabel('Endpoint').fill(s3.endpoint);
      await form.getByLabel('Bucket', { exact: true }).fill(bucket);
      await form.getByLabel('Access key id').fill(s3.accessKeyId);
      await form.getByLabel('Secret access key').fill(s3.secretAccessKey);
    };
    await fill('offsite');
    await form.getByRole('button', { name: 'Add repository for copies' }).click();
    await expect(form.getByRole('status')).toContainText(
      'Added offsite, a new repository that the recovery kit’s passphrase opens',
    );
    // The same bucket again is refused; so is a bucket holding another repository, without its passphrase.
    await page.reload();
    await fill('offsite2');
    await form.getByRole('button', { name: 'Add repository for copies' }).click();
    await expect(form.getByText('copies go there already')).toBeVisible();
    const s3Env = { ...process.env, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
    execFileSync(process.execPath, ['bin/lifeline.cjs', 'init', '--repo', `s3:${s3.endpoint}/someone-elses`], {
      env: { ...s3Env, LIFELINE_PASSWORD: 'not the kit passphrase' },
    });
    await page.reload();
    await fill('offsite2', 'someone-elses');
    await form.getByRole('button', { name: 'Add repository for copies' }).click();
    await expect(form.getByText(/give its passphrase to copy into it/)).toBeVisible();
    await expect(page.getByRole('cell', { name: 'offsite2' })).toHaveCount(0);
    await expect(page.getByRole('cell', { name: /S3 bucket offsite-copies at/ })).toBeVisible();

    await page.goto('/backups');
    await planRow(page, 'docs').getByRole('link', { name: 'docs', exact: true }).click();
    const plan = page.getByRole('form', { name: 'Plan policy' });
    await plan.getByLabel('Copy to').selectOption({ label: 'offsite' });
    await plan.getByRole('button', { name: 'Save' }).click();
    await expect(plan.getByRole('status')).toHaveText('Plan docs saved.');

    // After the backup, its copy: the overview shows the source's RPO in the bucket, and the flag is gone.
    await page.goto('/backups');
    await sourceRow(page, 'docs').getByRole('button', { name: 'Back up now' }).click();
    await page.goto('/');
    const copies = tile.getByRole('list', { name: 'Copies of docs' });
    await waitFor(
      'the copy into the bucket to finish',
      shows(copies, /Copy in offsite \(off this machine\): \d+ s/),
      90_000,
    );
    await expect(tile.getByText('No copy off this machine')).toHaveCount(0);

    // The bucket holds both snapshots of the source, and the recovery kit's passphrase opens it.
    const secrets = path.join(app.dataDir, 'secrets');
    const env = { ...s3Env, LIFELINE_PASSWORD: readFileSync(path.join(secrets, 'repository.passphrase'), 'utf8') };
    const listed = JSON.parse(
      execFileSync(
        process.execPath,
        ['bin/lifeline.cjs', 'snapshots', '--repo', `s3:${s3.endpoint}/offsite-copies`, '--json'],
        { env },
      )
        .toString()
        .trim()
        .split('\n')
        .pop()!,
    ) as { snapshots: { source: string }[] };
    expect(listed.snapshots.map((x) => x.source)).toEqual(['local:docs', 'local:docs']);
    for (const f of readdirSync(secrets).filter((f) => f.startsWith('copy-') || f.endsWith('.credentials')))
      expect(statSync(path.join(secrets, f)).mode & 0o777).toBe(0o600);
    expect(await page.content()).not.toContain(s3.secretAccessKey);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
