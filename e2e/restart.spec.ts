import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, test as base } from '@playwright/test';

import { startServer, stopServer } from './support/app';
import { pace, waitFor } from '../test/support/wait';
import {
  addSource,
  demoEndpoint,
  endpointServes,
  SEEDED_ADMIN,
  shows,
  signIn,
  sourceRow,
  visible,
} from './support/steps';

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
    await waitFor('the dead server’s backup to stop', () => processesUsing(server.dataDir) === 0, 15_000);

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
    await waitFor(
      'the next backup of big to finish',
      visible(sourceRow(page, 'big').getByRole('cell', { name: /ago$/ })),
      60_000,
    );
    await page.context().close();
  } finally {
    await stopServer(server);
    rmSync(source, { recursive: true, force: true });
  }
});

test('05.1 and 13.5 the guarded service keeps serving while the dashboard is down and restarts, and no failover happens; the demo’s embedded store runs on untouched', async ({
  browser,
}) => {
  // The demo on the embedded store, as it runs where etcd is not installed.
  const env = { ...SEEDED_ADMIN, LIFELINE_DEMO: '1', LIFELINE_DEMO_COORDINATION: 'store' };
  let server = await startServer(env);
  try {
    let page = await (await browser.newContext({ baseURL: server.url })).newPage();
    await signIn(page);
    await page.goto('/nodes');
    const group = () => page.getByRole('region', { name: 'Group demo-notes' });
    const demoA = () => group().getByRole('article', { name: 'Node demo-a' });
    await waitFor('demo-a to serve', shows(demoA(), 'Serving'), 60_000);
    // The page is not live for this: read it again until the move is done.
    await waitFor(
      'the demo group to move to its store',
      async () => {
        await page.reload();
        return ((await group().textContent()) ?? '').includes('coordinated on etcd');
      },
      60_000,
    );
    const endpoint = await demoEndpoint(page);
    // The move ends with the endpoint replaced by one that follows the leader key.
    const endpointPid = path.join(server.dataDir, 'run', 'endpoint-demo-notes.pid');
    await waitFor(
      'the endpoint to follow the leader key and serve',
      async () =>
        readFileSync(`/proc/${readFileSync(endpointPid, 'utf8')}/cmdline`, 'utf8').includes('--etcd') &&
        (await endpointServes(endpoint)),
      30_000,
    );
    await page.context().close();
    const storePid = readFileSync(path.join(server.dataDir, 'run', 'demo-store.pid'), 'utf8');

    // Writes through the endpoint, every 50 ms, for the whole outage of the dashboard and well past the 6 s lease:
    // every one of them is acknowledged.
    await stopServer(server, 'SIGKILL', true);
    const killedAt = Date.now();
    let ok = 0;
    const failures: string[] = [];
    for (let seq = 5_000_000; Date.now() - killedAt < 12_000; seq++) {
      const sentAt = Date.now();
      const res = await fetch(`${endpoint}/writes`, {
        method: 'POST',
        body: JSON.stringify({ seq }),
        signal: AbortSignal.timeout(2000),
      }).catch((err: Error) => err);
      if (!(res instanceof Error) && res.status === 201) ok++;
      else failures.push(`+${sentAt - killedAt} ms: ${res instanceof Error ? res.message : `HTTP ${res.status}`}`);
      await pace(50);
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);

    server = await startServer(env, server.dataDir);
    // The store is its own process: the dashboard's death and start did not touch it.
    expect(readFileSync(path.join(server.dataDir, 'run', 'demo-store.pid'), 'utf8')).toBe(storePid);
    expect(readFileSync(`/proc/${storePid}/cmdline`, 'utf8')).toContain('store');
    page = await (await browser.newContext({ baseURL: server.url })).newPage();
    await signIn(page);
    await page.goto('/nodes');
    await waitFor('demo-a to serve after the restart', shows(demoA(), 'Serving'), 60_000);
    await waitFor(
      'demo-a to leave failsafe',
      async () => !((await demoA().textContent()) ?? '').includes('failsafe'),
      15_000,
    );
    await expect(page.getByRole('table', { name: 'Failovers of demo-notes' })).not.toContainText('demo-a → demo-b');
    await page.context().close();
  } finally {
    await stopServer(server);
  }
});
