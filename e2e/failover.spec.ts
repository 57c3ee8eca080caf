// The demo cluster, end to end: real agents and service processes behind the stable endpoint. Killing the
// primary's service shows, without a reload, the node down, the standby promoted, the endpoint serving again,
// and the failover listed with its measured RTO and RPO; a drill passes and marks the restore as tested; a source
// on a node is backed up by its agent; large backups and ships pass the storage API whole.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';

import { openRepository, runRestore } from '../lib/engine';
import { waitFor } from '../test/support/wait';
import { expect, test } from './support/app';
import {
  demoEndpoint,
  demoGroupServing,
  endpointServes,
  SEEDED_ADMIN,
  shows,
  signIn,
  sourceRow,
  visible,
} from './support/steps';

// On the dashboard's own coordinator: the live failover steps and drills through it (demo-coordination.spec.ts has
// the demo on etcd).
test.use({ serverEnv: { ...SEEDED_ADMIN, LIFELINE_DEMO: '1', LIFELINE_DEMO_COORDINATION: 'dashboard' } });
test.describe.configure({ mode: 'serial' });

test('the demo cluster starts with a primary serving behind the endpoint', async ({ page }) => {
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Nodes' }).click();
  const group = page.getByRole('region', { name: 'Group demo-notes' });
  await waitFor('demo-a to serve', shows(group.getByRole('article', { name: 'Node demo-a' }), 'Serving'), 60_000);
  await expect(group.getByRole('article', { name: 'Node demo-b' })).toContainText('Standby');
  const endpoint = await demoEndpoint(page);
  expect(await endpointServes(endpoint)).toBe(true);
});

test('killing the primary: the page shows it down, the standby takes over, the endpoint serves, RTO and RPO are listed', async ({
  page,
}) => {
  const { group, a, b } = await demoGroupServing(page);
  // Let the standby receive shipped data first, as it would in steady state.
  await waitFor('shipped data on demo-b', shows(b, /Data from\s*\d+ s ago/), 30_000);
  const endpoint = await demoEndpoint(page);

  await page.getByRole('button', { name: 'Fail primary' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'SIGKILL' })).toBeVisible();
  // Live, without a reload: the steps of the failover, then the new roles.
  await waitFor(
    'the crash in the live failover steps',
    shows(group.getByRole('list', { name: 'Live failover steps' }), 'the service process exited (SIGKILL)'),
    15_000,
  );
  await waitFor('demo-b to serve', shows(b, 'Serving'), 15_000);
  await expect(b).toContainText('primary');
  expect(await endpointServes(endpoint)).toBe(true);

  const failovers = group.getByRole('table', { name: 'Failovers of demo-notes' });
  const row = failovers.getByRole('row').filter({ hasText: 'demo-a → demo-b' });
  await waitFor('the failover in the table', shows(row, 'failover'), 15_000);
  // RTO and RPO are measured values in seconds, and the demo's load counted the lost writes.
  const cells = row.getByRole('cell');
  await expect(cells.nth(3)).toHaveText(/^\d+\.\d\d s$/);
  await expect(cells.nth(4)).toHaveText(/^\d+\.\d\d s$/);
  await expect(cells.nth(5)).toHaveText(/^\d+$/);

  // The failed node rejoins as a standby once the new primary's data has replaced its own.
  await waitFor('demo-a to rejoin as a standby', shows(a, 'Standby'), 30_000);
  // The activity feed lists it too.
  await page.goto('/activity?show=failovers');
  await expect(page.getByRole('cell', { name: 'failover of demo-notes: demo-a → demo-b' })).toBeVisible();
  // 16.3 … which links to the failover's own page: what it cost, and each step it took.
  await page.getByRole('link', { name: 'failover of demo-notes: demo-a → demo-b' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Failover of demo-notes');
  const figures = page.getByRole('definition');
  await expect(page.getByLabel('Figures')).toContainText('From → todemo-a → demo-b');
  await expect(figures.filter({ hasText: /^\d+\.\d\d s$/ }).first()).toBeVisible();
  await expect(page.getByRole('list', { name: 'Steps' })).toContainText('the service process exited (SIGKILL)');
});

test('a DR drill restores on the standby, starts it on a scratch port and marks the restore as tested', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/nodes');
  const group = page.getByRole('region', { name: 'Group demo-notes' });
  await group.getByRole('button', { name: 'Run DR drill' }).click();
  await waitFor('the drill to pass', visible(group.getByRole('status').filter({ hasText: 'Drill passed' })), 30_000);
  await expect(group).toContainText('Restore tested');
  const drill = group.getByRole('table', { name: 'Drills of demo-notes' }).getByRole('row').nth(1);
  await expect(drill).toContainText('passed');
  // 16.3 the drill's own page.
  await drill.getByRole('link', { name: 'passed' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('DR drill of demo-notes');
  await expect(page.getByLabel('Figures')).toContainText('Outcomethe standby restored the data and served it');
  await expect(page.getByLabel('Figures')).toContainText(/Ready in\d+\.\d\d s/);
});

test('06.5 a source on a node is backed up by that node’s agent, 40 MiB of it, and restores byte for byte', async ({
  page,
  app,
}) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-node-source-'));
  writeFileSync(path.join(dir, 'orders.csv'), 'id,total\n1,20\n');
  // Incompressible and larger than a pack: the node uploads packs of 16 MiB and more through the storage API.
  const big = randomBytes(40 * 1024 * 1024);
  writeFileSync(path.join(dir, 'big.bin'), big);
  const target = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-node-restore-'));
  try {
    await signIn(page);
    await page.goto('/backups');
    const form = page.getByRole('form', { name: 'Add a source' });
    await form.getByLabel('Name').fill('orders-on-demo-a');
    await form.getByLabel('Node').selectOption('demo-a');
    await form.getByLabel('Path').fill(dir);
    await form.getByRole('button', { name: 'Add source' }).click();
    await expect(form.getByRole('status')).toHaveText('Source orders-on-demo-a added.');
    const row = sourceRow(page, 'orders-on-demo-a');
    await expect(row).toContainText(`demo-a:${dir}`);
    await row.getByRole('button', { name: 'Back up now' }).click();
    await waitFor('the backup on demo-a to finish', visible(row.getByRole('cell', { name: /ago$/ })), 60_000);
    await page.goto('/snapshots');
    await expect(page.getByRole('main')).toContainText('demo-a:orders-on-demo-a');
    // Read back with the repository and its passphrase alone: the node's own repository is below the control
    // plane's, and the same passphrase opens it; the control plane's own holds none of it.
    const passphrase = readFileSync(path.join(app.dataDir, 'secrets', 'repository.passphrase'), 'utf8');
    const main = await openRepository(path.join(app.dataDir, 'repository'), passphrase);
    expect((await main.listSnapshots()).filter((s) => s.source.startsWith('demo-a:'))).toEqual([]);
    const nodes = path.join(app.dataDir, 'repository', 'tenants', 'nodes');
    let found = null;
    for (const id of readdirSync(nodes)) {
      const repo = await openRepository(path.join(nodes, id), passphrase);
      const snapshot = (await repo.listSnapshots()).find((s) => s.source === 'demo-a:orders-on-demo-a');
      if (snapshot) found = { repo, snapshot };
    }
    expect(found).not.toBeNull();
    await runRestore(found!.repo, { snapshot: found!.snapshot, target });
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(digest(readFileSync(path.join(target, dir, 'big.bin')))).toBe(digest(big));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(target, { recursive: true, force: true });
  }
});

test('06.5 the primary’s database grows by 50 MiB and the standby catches up, through the storage API', async ({
  page,
  app,
}) => {
  await signIn(page);
  await page.goto('/nodes');
  const group = page.getByRole('region', { name: 'Group demo-notes' });
  const tile = (name: string) => group.getByRole('article', { name: `Node ${name}` });
  const [primary, standby] = (await tile('demo-a').textContent())?.includes('primary')
    ? ['demo-a', 'demo-b']
    : ['demo-b', 'demo-a'];
  await waitFor(`${primary} to serve`, shows(tile(primary), 'Serving'), 60_000);
  // 50 MiB of incompressible rows, written beside the service (SQLite in WAL mode takes a second writer).
  const db = new Database(path.join(app.dataDir, 'demo', primary, 'service', 'notes.db'));
  db.pragma('busy_timeout = 10000');
  db.exec('CREATE TABLE IF NOT EXISTS ballast (id INTEGER PRIMARY KEY, bytes BLOB NOT NULL)');
  const add = db.prepare('INSERT INTO ballast (bytes) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 50; i++) add.run(randomBytes(1024 * 1024));
  })();
  db.close();
  const copy = path.join(app.dataDir, 'demo', standby, 'service', 'notes.db');
  const rowsOnStandby = () => {
    try {
      const standbyDb = new Database(copy, { readonly: true, fileMustExist: true });
      try {
        return (standbyDb.prepare('SELECT count(*) AS n FROM ballast').get() as { n: number }).n;
      } finally {
        standbyDb.close();
      }
    } catch {
      return 0;
    }
  };
  await waitFor(`the 50 MiB on ${standby}`, () => rowsOnStandby() === 50, 120_000);
  await expect(tile(primary)).not.toContainText('Shipping stalled');
});

test('if the endpoint process dies, the dashboard starts it again on the same address', async ({ page, app }) => {
  await signIn(page);
  await page.goto('/nodes');
  const endpoint = await demoEndpoint(page);
  const pid = Number(readFileSync(path.join(app.dataDir, 'run', 'endpoint-demo-notes.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await waitFor('the endpoint to serve again', () => endpointServes(endpoint), 15_000);
  expect(Number(readFileSync(path.join(app.dataDir, 'run', 'endpoint-demo-notes.pid'), 'utf8'))).not.toBe(pid);
});
