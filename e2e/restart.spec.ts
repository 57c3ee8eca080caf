import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, test as base } from '@playwright/test';

import { startServer, stopServer } from './support/app';
import { addSource, demoEndpoint, SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

/** Processes whose command line names the data directory (the server, or a CLI it started). */
function processesUsing(dataDir: string): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir)) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

// This spec restarts its server itself, so it does not use the per-file server fixture.
const test = base;

test('a job running when the server dies is marked interrupted on the next start, never left running', async ({
  browser,
}) => {
  const source = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-restart-'));
  for (let i = 0; i < 12; i++) writeFileSync(path.join(source, `blob-${i}.bin`), randomBytes(25 * 1024 * 1024));
  let server = await startServer(SEEDED_ADMIN);
  try {
    let page = await (await browser.newContext({ baseURL: server.url })).newPage();
    await signIn(page);
    await addSource(page, 'big', source);
    await sourceRow(page, 'big').getByRole('button', { name: 'Back up now' }).click();
    await expect(page.getByRole('listitem', { name: /backup of big/ }).getByText('running')).toBeVisible();
    await stopServer(server, 'SIGKILL', true);
    await page.context().close();
    // The backup the dead server had started stops by itself instead of working on for nobody.
    await expect.poll(() => processesUsing(server.dataDir), { timeout: 15_000 }).toBe(0);

    server = await startServer(SEEDED_ADMIN, server.dataDir);
    page = await (await browser.newContext({ baseURL: server.url })).newPage();
    await signIn(page);
    await page.goto('/backups');
    await expect(page.getByText('No job is running.')).toBeVisible();
    await page.goto('/activity?show=failures');
    await expect(page.getByRole('cell', { name: 'backup of big: interrupted' })).toBeVisible();
    await expect(page.getByRole('cell', { name: 'the server stopped while this job was pending' })).toBeVisible();
    // The repository is fine: the next backup of the same source succeeds.
    await page.goto('/backups');
    await sourceRow(page, 'big').getByRole('button', { name: 'Back up now' }).click();
    await expect(sourceRow(page, 'big').getByRole('cell', { name: /ago$/ })).toBeVisible({ timeout: 60_000 });
    await page.context().close();
  } finally {
    await stopServer(server);
    rmSync(source, { recursive: true, force: true });
  }
});

test('the guarded service keeps serving while the dashboard is down and restarts, and no failover happens', async ({
  browser,
}) => {
  const env = { ...SEEDED_ADMIN, LIFELINE_DEMO: '1' };
  let server = await startServer(env);
  try {
    let page = await (await browser.newContext({ baseURL: server.url })).newPage();
    await signIn(page);
    await page.goto('/nodes');
    const group = () => page.getByRole('region', { name: 'Group demo-notes' });
    await expect(group().getByRole('article', { name: 'Node demo-a' })).toContainText('Serving', { timeout: 30_000 });
    const endpoint = await demoEndpoint(page);
    await page.context().close();

    // Writes through the endpoint, every 50 ms, for the whole outage of the dashboard and well past the 6 s lease.
    await stopServer(server, 'SIGKILL', true);
    let ok = 0;
    let failed = 0;
    for (let seq = 5_000_000; seq < 5_000_000 + 200; seq++) {
      const res = await fetch(`${endpoint}/writes`, {
        method: 'POST',
        body: JSON.stringify({ seq }),
        signal: AbortSignal.timeout(2000),
      }).catch(() => null);
      if (res?.status === 201) ok++;
      else failed++;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(failed).toBe(0);
    expect(ok).toBe(200);

    server = await startServer(env, server.dataDir);
    page = await (await browser.newContext({ baseURL: server.url })).newPage();
    await signIn(page);
    await page.goto('/nodes');
    await expect(group().getByRole('article', { name: 'Node demo-a' })).toContainText('Serving', { timeout: 30_000 });
    await expect(group().getByRole('article', { name: 'Node demo-a' })).not.toContainText('failsafe', {
      timeout: 15_000,
    });
    await expect(group().getByRole('table', { name: 'Failovers of demo-notes' })).not.toContainText('demo-a → demo-b');
    await page.context().close();
  } finally {
    await stopServer(server);
  }
});
