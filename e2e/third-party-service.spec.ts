// 14.5 Lifeline guarding a program it did not write: Soul (the npm package soul-cli), a REST server that keeps its
// data in a SQLite database in WAL mode. Two nodes are registered and grouped from the page as an operator does;
// rows written through the stable endpoint survive a switchover (all of them) and a crash of the primary's
// service (every row older than the last ship the standby applied).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, freePort, test } from './support/app';
import { createGroup, registerAndRun, type RunningNode, stopAgents } from './support/nodes';
import { childrenOf } from '../test/support/processes';
import { waitFor } from '../test/support/wait';
import { SEEDED_ADMIN, shows, signIn, visible } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });
test.describe.configure({ mode: 'serial' });

const SOUL = path.resolve('node_modules/soul-cli/src/server.js');

const nodes = new Map<string, RunningNode>();
let dir: string;
let endpoint: string;

test.beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-soul-'));
});
test.afterAll(async () => {
  await stopAgents(nodes.values());
  rmSync(dir, { recursive: true, force: true });
});

async function register(page: import('@playwright/test').Page, name: string): Promise<void> {
  const node = await registerAndRun(page, dir, name, () => ({
    // Soul's own command line: its database and its port. It reads a .env from where it starts: its data directory.
    command: [process.execPath, SOUL, '--database', '{dataDir}/soul.db', '--port', '{port}'],
    cwd: path.join(dir, name),
    env: { NODE_ENV: 'production' },
    health: { httpPath: '/api/health' },
    sqlite: ['soul.db'],
  }));
  nodes.set(name, node);
}

async function insert(body: string): Promise<void> {
  const res = await fetch(`${endpoint}/api/tables/notes/rows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fields: { body } }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function bodies(): Promise<string[]> {
  const res = await fetch(`${endpoint}/api/tables/notes/rows?_limit=1000&_ordering=id`);
  expect(res.status).toBe(200);
  const { data } = (await res.json()) as { data: { body: string }[] };
  return data.map((r) => r.body);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `note ${from + i}`);

test('14.5 a third-party SQLite program from npm, grouped from the page, keeps every row through a switchover', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/nodes');
  await register(page, 'soul-1');
  await page.reload();
  await register(page, 'soul-2');
  await page.reload();
  const endpointPort = await freePort();
  endpoint = `http://127.0.0.1:${endpointPort}`;
  await createGroup(page, 'soul', endpointPort, ['soul-1', 'soul-2']);
  const group = page.getByRole('region', { name: 'Group soul' });
  const first = group.getByRole('article', { name: 'Node soul-1' });
  await waitFor('soul-1 to serve', shows(first, 'Serving'), 60_000);
  // 14.4 Soul listens on every interface (it has no option for an address): the tile says what that risks.
  await expect(first).toContainText('Warning: the service listens on every interface');

  const created = await fetch(`${endpoint}/api/tables`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'notes', schema: [{ name: 'body', type: 'TEXT' }] }),
  });
  expect(created.status, await created.clone().text()).toBe(201);
  for (const body of range(1, 30)) await insert(body);

  await group.getByRole('button', { name: 'Switch over to soul-2' }).click();
  await waitFor('the switchover to end', visible(group.getByRole('button', { name: 'Switch over to soul-1' })), 30_000);
  await waitFor('soul-2 to serve', shows(group.getByRole('article', { name: 'Node soul-2' }), 'Serving'), 15_000);
  // Every row acknowledged before the switchover is there, read through the same address.
  expect(await bodies()).toEqual(range(1, 30));
});

test('14.5 … and every row older than the last ship through a crash of its service on the primary', async ({
  page,
}) => {
  for (const body of range(31, 60)) await insert(body);
  const written = Date.now();
  // The standby has applied a ship whose data is newer than the last acknowledged write.
  await waitFor(
    'soul-1 to apply data from after the last write',
    async () => ((await nodes.get('soul-1')!.client.status()).data.dataTime ?? 0) > written,
    30_000,
  );
  const primary = nodes.get('soul-2')!;
  const [pid] = childrenOf(primary.agent.pid!, SOUL);
  expect(pid).toBeGreaterThan(0);
  process.kill(pid, 'SIGKILL');

  await signIn(page);
  await page.goto('/nodes');
  const group = page.getByRole('region', { name: 'Group soul' });
  await waitFor('soul-1 to serve again', shows(group.getByRole('article', { name: 'Node soul-1' }), 'Serving'), 60_000);
  await expect(
    group.getByRole('table', { name: 'Failovers of soul' }).getByRole('row').filter({ hasText: 'soul-2 → soul-1' }),
  ).toBeVisible();
  expect(await bodies()).toEqual(range(1, 60));
  // And it takes writes again.
  await insert('note 61');
  expect(await bodies()).toEqual(range(1, 61));
});
