// 13.3 in a real browser: etcd set up in Settings → Coordination (a wrong address refused with etcd's own words,
// nothing kept), the demo group moved there while its write load runs, with no failover (the same primary serves
// on, the endpoint serves), a switchover asked of the members from the page, and a crash of the primary then
// handled by the members themselves: the page names the new primary and lists the switchover and the failover,
// with RTO and RPO, from the group's history on etcd.
import { freePort } from '../lib/engine/free-port';
import { waitFor } from '../test/support/wait';
import { expect, test } from './support/app';
import { demoEndpoint, demoGroupServing, endpointServes, SEEDED_ADMIN, shows } from './support/steps';

// The demo starts on the dashboard's coordinator here: this spec moves it to etcd itself.
test.use({ serverEnv: { ...SEEDED_ADMIN, LIFELINE_DEMO: '1', LIFELINE_DEMO_COORDINATION: 'dashboard' } });
test.describe.configure({ timeout: 180_000 });

test('13.3 the demo group moves to etcd with no failover; a switchover is asked of its members, and they fail over by themselves', async ({
  page,
  etcd,
}) => {
  const { group, a, b } = await demoGroupServing(page);
  await expect(group.getByRole('link', { name: 'Settings → Coordination' })).toBeVisible();

  await page.goto('/settings/coordination');
  const form = page.getByRole('form', { name: 'etcd' });
  await form.getByLabel('etcd members').fill(`http://127.0.0.1:${await freePort()}`);
  await form.getByLabel('Root password').fill('the etcd root password');
  await form.getByRole('button', { name: 'Test and save' }).click();
  await expect(form.getByRole('alert')).toContainText('etcd did not answer as expected');
  await expect(page.getByRole('region', { name: 'etcd settings' })).toContainText('Not set up.');
  await form.getByLabel('etcd members').fill(etcd.endpoints.join(', '));
  await form.getByLabel('Root password').fill('the etcd root password');
  await form.getByRole('button', { name: 'Test and save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'etcd answered' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'etcd settings' })).toContainText('with authentication');

  await page.goto('/nodes');
  await waitFor('demo-b to hold shipped data', shows(b, /Data from\s*\d+ s ago/), 30_000);
  const endpoint = await demoEndpoint(page);
  const failovers = group.getByRole('table', { name: 'Failovers of demo-notes' }).getByRole('row');
  const rowsBefore = await failovers.count();
  await group.getByText('Coordinate on etcd').click();
  await group.getByRole('button', { name: 'Move demo-notes to etcd' }).click();
  // The form goes with the move: the group now says where it is coordinated.
  await expect(group).toContainText('coordinated on etcd', { timeout: 30_000 });
  // No failover: demo-a still serves, nothing is listed, and the endpoint (now following the key) serves.
  await expect(a).toContainText('Serving');
  await waitFor('the endpoint to serve through etcd', () => endpointServes(endpoint), 20_000);
  await page.reload();
  await expect(group).toContainText('coordinated on etcd');
  expect(await failovers.count()).toBe(rowsBefore);

  // 13.7 its timings: a renewal slower than a third of the TTL is refused next to its field; then saved on etcd.
  await group.getByText('Timings', { exact: true }).click();
  const timings = group.getByRole('form', { name: 'Timings of demo-notes' });
  await timings.getByLabel('TTL of the leader key (s)').fill('9');
  await timings.getByLabel('Renew every (s)').fill('4');
  await timings.getByRole('button', { name: 'Save timings' }).click();
  await expect(timings.getByText('At most a third of the TTL')).toBeVisible();
  await timings.getByLabel('Renew every (s)').fill('3');
  await timings.getByRole('button', { name: 'Save timings' }).click();
  await expect(timings.getByRole('status')).toContainText('Timings saved on etcd');

  // 15.3 its replication: the demo replicates its log; an admin makes it synchronous (a bound out of range is
  // refused next to its field). The switchover and the failover below then run synchronous.
  await expect(group).toContainText('log replication');
  await group.getByText('Replication', { exact: true }).click();
  const replication = group.getByRole('form', { name: 'Replication of demo-notes' });
  await replication.getByLabel('once a standby holds it', { exact: true }).check();
  await replication.getByLabel('Degrade to asynchronous after (s)').fill('0');
  await replication.getByRole('button', { name: 'Save replication' }).click();
  await expect(replication.getByText('At least 0.1 s')).toBeVisible();
  await replication.getByLabel('Degrade to asynchronous after (s)').fill('2');
  await replication.getByRole('button', { name: 'Save replication' }).click();
  await expect(replication.getByRole('status')).toContainText('Saved on etcd');
  await expect(group).toContainText('log replication (synchronous)');
  await waitFor('the endpoint to serve, synchronously', () => endpointServes(endpoint), 20_000);

  // A switchover is asked of the members: demo-a hands over to demo-b with its last data.
  await waitFor('demo-b to hold shipped data on etcd', shows(b, /Data from\s*\d+ s ago/), 30_000);
  await group.getByRole('button', { name: 'Switch over to demo-b' }).click();
  // The button goes with the switch (the page offers the way back): the roles and the table say what happened.
  await waitFor('demo-b to serve', shows(b, 'Serving'), 30_000);
  await waitFor(
    'the switchover in the table',
    shows(failovers.filter({ hasText: 'demo-a → demo-b' }), 'switchover'),
    30_000,
  );

  // Then demo-b's service is killed: demo-a takes over by itself.
  await waitFor('demo-a to hold shipped data again', shows(a, /Data from\s*\d+ s ago/), 30_000);
  await page.getByRole('button', { name: 'Fail primary' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'SIGKILL' })).toBeVisible();
  await waitFor('demo-a to serve', shows(a, 'Serving'), 30_000);
  await expect(a).toContainText('primary');
  await waitFor('the endpoint to serve on demo-a', () => endpointServes(endpoint), 20_000);
  const row = failovers.filter({ hasText: 'demo-b → demo-a' });
  await waitFor('the failover in the table', shows(row, 'failover'), 30_000);
  const cells = row.getByRole('cell');
  await expect(cells.nth(3)).toHaveText(/^\d+\.\d\d s$/);
  // 15.4 beside the RPO, how old each part of the data was when demo-b failed.
  await expect(cells.nth(4)).toHaveText(/^\d+\.\d\d s/);
  await expect(cells.nth(4).getByRole('list', { name: 'How old each copy was' })).toHaveText(
    /^notes\.db: \d+\.\d\d s$/,
  );
  await expect(cells.nth(5)).toHaveText(/^\d+$/);
});
