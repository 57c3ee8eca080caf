// 12.5: attach a repository in an S3 bucket (a real radosgw on 127.0.0.1) from the browser: the connection test
// writes, reads and deletes a probe object and names what is wrong; the keys are kept in a 0600 file, never in
// the database or a page; the page shows where the repository is and what it holds, and its snapshots appear.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, test } from './support/app';
import { waitFor } from '../test/support/wait';
import { addSource, SEEDED_ADMIN, signIn, sourceRow, visible } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });

test('12.5 attach an S3 repository: the connection test names wrong keys and then passes; the keys stay in a 0600 file; place, size and snapshots show', async ({
  page,
  app,
  s3,
}) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-s3-'));
  try {
    const bucket = 'dashboard-s3';
    const location = `s3:${s3.endpoint}/${bucket}/backups`;
    const data = path.join(work, 'data');
    execFileSync('mkdir', [data]);
    writeFileSync(path.join(data, 'file.txt'), 'kept in S3');
    const env = {
      ...process.env,
      LIFELINE_PASSWORD: 'bucket passphrase',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    execFileSync(process.execPath, ['bin/lifeline.cjs', 'init', '--repo', location], { env });
    execFileSync(
      process.execPath,
      ['bin/lifeline.cjs', 'backup', '--repo', location, '--node', 'web1', '--source', 'uploads', data],
      { env },
    );

    await signIn(page);
    await page.goto('/settings/repository');
    const form = page.getByRole('form', { name: 'Attach a repository' });
    await form.getByLabel('An S3 bucket').check();
    await form.getByLabel('Endpoint').fill(s3.endpoint);
    await form.getByLabel('Bucket', { exact: true }).fill(bucket);
    await form.getByLabel('Prefix (optional)').fill('backups');
    await form.getByLabel('Access key id').fill(s3.accessKeyId);
    await form.getByLabel('Secret access key').fill('not-the-secret');
    await form.getByRole('button', { name: 'Test connection' }).click();
    await expect(form.getByRole('alert')).toContainText('refused the credentials (SignatureDoesNotMatch)');

    await form.getByLabel('Secret access key').fill(s3.secretAccessKey);
    await form.getByRole('button', { name: 'Test connection' }).click();
    await expect(form.getByRole('status')).toContainText(
      'The connection works: wrote, read and deleted a probe object',
    );
    await expect(form.getByLabel('An S3 bucket')).toBeChecked();

    await form.getByLabel('Passphrase').fill('bucket passphrase');
    await form.getByRole('button', { name: 'Attach repository' }).click();
    await expect(form.getByRole('status')).toHaveText(`Attached ${location}.`);

    await page.reload();
    await expect(page.getByText(`S3 bucket ${bucket} (under backups) at ${s3.endpoint}`)).toBeVisible();
    await expect(page.getByText(/^\d+(\.\d+)? (B|KiB|MiB)$/)).toBeVisible();
    expect(await page.content()).not.toContain(s3.secretAccessKey);
    await page.goto('/snapshots');
    await expect(page.getByRole('cell', { name: 'web1:uploads' })).toBeVisible();

    // The keys are in a file only the server's user can read, and nowhere in the database.
    const secrets = path.join(app.dataDir, 'secrets');
    const files = readdirSync(secrets).filter((f) => f.endsWith('.credentials'));
    expect(files.length).toBe(1);
    expect(statSync(path.join(secrets, files[0])).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(secrets, files[0]), 'utf8')).toContain(s3.secretAccessKey);
    for (const f of readdirSync(app.dataDir).filter((f) => f.startsWith('lifeline.db')))
      expect(readFileSync(path.join(app.dataDir, f)).includes(s3.secretAccessKey)).toBe(false);

    // Back up now lands in the bucket: the CLI job reaches it with the kept keys.
    await addSource(page, 'docs', data);
    await sourceRow(page, 'docs').getByRole('button', { name: 'Back up now' }).click();
    await waitFor('the backup into S3 to finish', visible(page.getByText('No job is running.')), 60_000);
    await page.goto('/snapshots');
    await expect(page.getByRole('cell', { name: 'local:docs' })).toBeVisible();
    const listed = JSON.parse(
      execFileSync(process.execPath, ['bin/lifeline.cjs', 'snapshots', '--repo', location, '--json'], { env })
        .toString()
        .trim()
        .split('\n')
        .pop()!,
    ) as { snapshots: { source: string }[] };
    expect(listed.snapshots.map((x) => x.source).sort()).toEqual(['local:docs', 'web1:uploads']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
