// Bringing your own nodes: register two nodes (their credentials are shown once, as agent configs), run their
// agents with those configs, put them in a failover group, and watch the first one serve behind the endpoint.
// Rotating a node's credentials locks out the old ones.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, freePort, test } from './support/app';
import { createGroup, registerAndRun, type RunningNode, stopAgents } from './support/nodes';
import { waitFor } from '../test/support/wait';
import { SEEDED_ADMIN, shows, signIn, tabWithHeldEvents, visible } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });
test.describe.configure({ mode: 'serial' });

const nodes = new Map<string, RunningNode>();
let dir: string;

test.beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-nodes-'));
});
test.afterAll(async () => {
  await stopAgents(nodes.values());
  rmSync(dir, { recursive: true, force: true });
});

/** Registers a node guarding the notes service shipped with the project, and runs its agent. */
async function register(page: import('@playwright/test').Page, name: string): Promise<void> {
  const node = await registerAndRun(page, dir, name, () => ({
    command: [process.execPath, path.resolve('dist/notes-service.cjs')],
    env: { PORT: '{port}', NOTES_DB: '{dataDir}/notes.db' },
    health: { httpPath: '/health' },
    sqlite: ['notes.db'],
  }));
  nodes.set(name, node);
}

test('register two nodes, run their agents, and group them: the first serves behind the endpoint', async ({ page }) => {
  await signIn(page);
  await page.goto('/nodes');
  await register(page, 'db-1');
  await page.reload();
  await register(page, 'db-2');
  await page.reload();

  const endpointPort = await freePort();
  await createGroup(page, 'orders', endpointPort, ['db-1', 'db-2']);
  // The group appears, and its members are no longer offered for a new group.
  const group = page.getByRole('region', { name: 'Group orders' });
  await expect(group).toBeVisible();
  await waitFor('db-1 to serve', shows(group.getByRole('article', { name: 'Node db-1' }), 'Serving'), 60_000);
  await waitFor(
    'shipped data on db-2',
    shows(group.getByRole('article', { name: 'Node db-2' }), /Data from\s*\d+ s ago/),
    30_000,
  );
  const res = await fetch(`http://127.0.0.1:${endpointPort}/writes`, {
    method: 'POST',
    body: JSON.stringify({ seq: 1 }),
  });
  expect(res.status).toBe(201);
});

test('a switchover from the page moves the service to the standby; a page whose live stream connects only after it shows it too', async ({
  page,
}) => {
  await signIn(page);
  // A second tab, rendered before the switchover, whose stream of events connects only once it is over: the
  // failover's event is published while nobody on that tab listens.
  const { tab: late, release } = await tabWithHeldEvents(page);
  await late.goto('/nodes');
  await expect(late.getByRole('region', { name: 'Group orders' })).toBeVisible();

  await page.goto('/nodes');
  const group = page.getByRole('region', { name: 'Group orders' });
  await group.getByRole('button', { name: 'Switch over to db-2' }).click();
  // The page re-renders with the new roles: the switch button now offers db-1.
  await waitFor('the switchover to end', visible(group.getByRole('button', { name: 'Switch over to db-1' })), 30_000);
  await waitFor('db-2 to serve', shows(group.getByRole('article', { name: 'Node db-2' }), 'Serving'), 15_000);
  await expect(
    group.getByRole('table', { name: 'Failovers of orders' }).getByRole('row').filter({ hasText: 'db-1 → db-2' }),
  ).toContainText('switchover');

  release();
  await expect(
    late
      .getByRole('region', { name: 'Group orders' })
      .getByRole('table', { name: 'Failovers of orders' })
      .getByRole('row')
      .filter({ hasText: 'db-1 → db-2' }),
  ).toContainText('switchover');
  await late.close();
});

test('16.5 a node’s heartbeats are refilled from its history when the live stream opens late; its latency chart marks the switchover, over the range chosen', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/nodes');
  const href = (await page.getByRole('link', { name: 'db-2' }).first().getAttribute('href'))!;
  const atsOf = (bars: import('@playwright/test').Locator) =>
    bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-at'))));
  // A tab whose stream is held: it shows the probes up to its render, and hears of none after it.
  const { tab: late, release } = await tabWithHeldEvents(page);
  await late.goto(href);
  const lateBars = late.getByRole('img', { name: 'Heartbeats' }).locator('span');
  const rendered = Math.max(...(await atsOf(lateBars)));
  // Another tab watches three probes arrive after that render.
  await page.goto(href);
  const bars = page.getByRole('img', { name: 'Heartbeats' }).locator('span');
  await waitFor(
    'three probes after the late tab’s render',
    async () => (await atsOf(bars)).filter((at) => at > rendered).length >= 3,
    30_000,
  );
  const missed = (await atsOf(bars)).filter((at) => at > rendered).slice(0, 3);
  release();
  await waitFor(
    'the late tab to show the probes it missed',
    async () => {
      const shown = await atsOf(lateBars);
      return missed.every((at) => shown.includes(at));
    },
    20_000,
  );
  await late.close();

  // The switchover is marked on db-2's latency chart, in the hour and in the month.
  const ranges = page.getByRole('navigation', { name: 'Time range' });
  for (const range of ['hour', 'month']) {
    await ranges.getByRole('link', { name: range }).click();
    await expect(page.getByRole('heading', { name: `Over the last ${range}` })).toBeVisible();
    await expect(
      page.getByRole('figure', { name: 'Probe latency' }).getByRole('list', { name: 'Marked on the chart' }),
    ).toContainText('switchover of orders');
  }
});

test('06.4 an admin sets a node’s storage quota on its page: a bad value is refused, blank means the default', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/nodes');
  await page.getByRole('link', { name: 'db-2' }).first().click();
  // 14.2 db-2 serves since the switchover: its service's output, as the node keeps it.
  await expect(page.getByRole('region', { name: 'Service output' })).toContainText('notes: listening on port');
  const section = page.getByRole('region', { name: 'Storage quota' });
  await expect(section).toContainText('of 100.0 GiB');
  await expect(section).toContainText('up to 6,000 requests a minute');
  const form = section.getByRole('form', { name: 'Quota' });
  await form.getByLabel('Data (GiB)').fill('-3');
  await form.getByLabel('Objects').fill('12.5');
  await form.getByRole('button', { name: 'Save quota' }).click();
  await expect(form.getByRole('alert')).toHaveText('Check the fields marked below.');
  await expect(form.getByText('GiB from 0.001 to 1,000,000, or blank')).toBeVisible();
  await expect(form.getByText('A whole number of objects from 10 to 1,000,000,000, or blank')).toBeVisible();
  await expect(section).toContainText('of 100.0 GiB');

  await form.getByLabel('Data (GiB)').fill('250');
  await form.getByLabel('Objects').fill('');
  await form.getByLabel('Requests a minute').fill('1200');
  await form.getByRole('button', { name: 'Save quota' }).click();
  await expect(form.getByRole('status')).toHaveText('Quota of db-2 saved; it applies to its next upload.');
  await page.reload();
  await expect(section).toContainText('of 250.0 GiB');
  await expect(section).toContainText('of 1,000,000 objects');
  await expect(section).toContainText('up to 1,200 requests a minute');
  await expect(form.getByLabel('Data (GiB)')).toHaveValue('250');
  await expect(form.getByLabel('Objects')).toHaveValue('');
});

test('rotating a node’s credentials shows a new config once and locks out the old secret', async ({ page }) => {
  await signIn(page);
  await page.goto('/nodes');
  await page.getByRole('link', { name: 'db-1' }).first().click();
  await expect(page.getByRole('heading', { name: 'db-1' })).toBeVisible();
  await expect(page.getByLabel('Heartbeats')).toBeVisible();
  await page.getByRole('button', { name: 'Rotate credentials' }).click();
  const config = JSON.parse((await page.getByLabel('Agent config').textContent())!);
  expect(config.secret).toMatch(/^[0-9a-f]{64}$/);
  // The running agent still has the old secret: the control plane now sees it as unreachable.
  await page.goto('/nodes');
  await waitFor(
    'db-1 to be shown unreachable',
    shows(
      page.getByRole('region', { name: 'Group orders' }).getByRole('article', { name: 'Node db-1' }),
      'Agent unreachable',
    ),
    15_000,
  );
});

test('removing the group asks for its name, stops its endpoint and leaves the primary serving; then a node is removed', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/nodes');
  const group = page.getByRole('region', { name: 'Group orders' });
  // A dialog asks first: kept, nothing goes.
  await group.getByRole('button', { name: 'Remove this group' }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove this group' });
  await expect(dialog).toContainText('the nodes stay registered and the primary keeps serving');
  await dialog.getByRole('button', { name: 'Keep it' }).click();
  await expect(dialog).toHaveCount(0);
  await group.getByRole('button', { name: 'Remove this group' }).click();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(group).toBeVisible();
  await group.getByRole('button', { name: 'Remove this group' }).click();
  const form = dialog.getByRole('form', { name: 'Remove this group' });
  await form.getByLabel('Type orders to confirm').fill('order');
  await form.getByRole('button', { name: 'Remove this group' }).click();
  await expect(form.getByRole('alert')).toHaveText('Type orders to confirm.');
  await form.getByLabel('Type orders to confirm').fill('orders');
  await form.getByRole('button', { name: 'Remove this group' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Group orders removed.' })).toBeVisible();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'Group orders' })).toHaveCount(0);
  // db-2 was primary: it still answers on its own address.
  expect((await fetch(`http://127.0.0.1:${nodes.get('db-2')!.servicePort}/health`)).ok).toBe(true);

  await page.getByRole('link', { name: 'db-1' }).click();
  await page.getByRole('button', { name: 'Remove this node' }).click();
  const remove = page.getByRole('form', { name: 'Remove this node' });
  await remove.getByLabel('Type db-1 to confirm').fill('db-1');
  await remove.getByRole('button', { name: 'Remove this node' }).click();
  await expect(page).toHaveURL(/\/nodes$/);
  await expect(page.getByRole('link', { name: 'db-1' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'db-2' })).toBeVisible();
});
