// 13.5 the demo as `npm start` runs it where etcd is installed: its group coordinates on one real etcd member the
// dashboard started beside the agents (with authentication and a root password of its own), moved there with no
// failover; a crash of the primary's service is then handled by the members, and the page lists it.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { waitFor } from '../test/support/wait';
import { expect, test } from './support/app';
import { demoEndpoint, demoGroupServing, endpointServes, SEEDED_ADMIN, shows } from './support/steps';

test.use({ serverEnv: { ...SEEDED_ADMIN, LIFELINE_DEMO: '1' } });
test.describe.configure({ timeout: 180_000 });

test('13.5 with etcd installed, the demo group runs on one real etcd member of its own, and fails over there', async ({
  page,
  app,
  // Makes sure Debian's etcd-server is installed (the demo looks for it); its own member is not used here.
  etcd: _installed,
}) => {
  const { group, a, b } = await demoGroupServing(page);
  // The page is not live for this: read it again until the move is done.
  await waitFor(
    'the demo group to move to its etcd member',
    async () => {
      await page.reload();
      return ((await group.textContent()) ?? '').includes('coordinated on etcd');
    },
    60_000,
  );
  const pid = readFileSync(path.join(app.dataDir, 'run', 'demo-etcd.pid'), 'utf8');
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('/usr/bin/etcd');
  // No failover on the way: demo-a serves on, and nothing is listed.
  await expect(a).toContainText('Serving');
  const failovers = group.getByRole('table', { name: 'Failovers of demo-notes' }).getByRole('row');
  await expect(failovers.filter({ hasText: /failover|switchover/ })).toHaveCount(0);

  await page.goto('/settings/coordination');
  await expect(page.getByRole('region', { name: 'etcd settings' })).toContainText('with authentication');

  await page.goto('/nodes');
  const endpoint = await demoEndpoint(page);
  await waitFor('demo-b to hold shipped data', shows(b, /Data from\s*\d+ s ago/), 30_000);
  await page.getByRole('button', { name: 'Fail primary' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'SIGKILL' })).toBeVisible();
  await waitFor('demo-b to serve', shows(b, 'Serving'), 30_000);
  await waitFor('the endpoint to serve on demo-b', () => endpointServes(endpoint), 20_000);
  await waitFor(
    'the failover in the table',
    shows(failovers.filter({ hasText: 'demo-a → demo-b' }), 'failover'),
    30_000,
  );
});
