// 10.2: failed sign-ins slow down the address they come from, never the user: after failures for `admin` from one
// address, the right password signs in at once from another; failures across many usernames make the address
// wait; and the address is the socket's, whatever X-Forwarded-For a client sends. The second address is real: a
// forwarder whose connections to the server come from 127.0.0.2.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

import type { Page } from '@playwright/test';

import { expect, test } from './support/app';
import { ADMIN, SEEDED_ADMIN, signIn } from './support/steps';

test.describe.configure({ mode: 'serial' });
test.use({ serverEnv: SEEDED_ADMIN });

async function attempt(page: Page, username: string, password: string): Promise<string> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The form clears the password when the answer is in: only then is this attempt over.
  await expect(page.getByLabel('Password')).toHaveValue('');
  return (
    (await page
      .getByRole('alert')
      .filter({ hasText: /Wrong|Too many/ })
      .textContent()) ?? ''
  );
}

/** A TCP forwarder to the server whose outgoing connections come from 127.0.0.2. */
async function fromSecondAddress(serverUrl: string): Promise<{ url: string; close: () => void }> {
  const { port } = new URL(serverUrl);
  const forwarder = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: Number(port), localAddress: '127.0.0.2' });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => forwarder.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}`, close: () => forwarder.close() };
}

test('10.2 failures for admin from one address do not lock admin out: from another address the right password signs in at once', async ({
  browser,
  app,
}) => {
  // A made-up X-Forwarded-For on every request, different each time, changes nothing: the socket's address counts.
  let n = 0;
  const direct = await browser.newContext({ baseURL: app.url });
  await direct.route('**/*', (route) =>
    route.continue({ headers: { ...route.request().headers(), 'x-forwarded-for': `10.0.0.${++n % 250}` } }),
  );
  const here = await direct.newPage();
  await here.goto('/login');
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await attempt(here, ADMIN.username, `guess ${i}`));
  expect(answers.slice(0, 3)).toEqual(Array(3).fill('Wrong username or password.'));
  expect(answers[3]).toMatch(/^Too many failed attempts for this username from your address/);
  expect(await attempt(here, ADMIN.username, ADMIN.password)).toMatch(/^Too many failed attempts/);

  const second = await fromSecondAddress(app.url);
  try {
    const elsewhere = await browser.newContext({ baseURL: second.url });
    await signIn(await elsewhere.newPage());
    await elsewhere.close();
  } finally {
    second.close();
  }
  await direct.close();
});

test('10.2 failures across many usernames from one address make that address wait, for every username', async ({
  page,
}) => {
  await page.goto('/login');
  // The first test's four attempts from this address count too.
  const answers = [];
  for (let i = 0; i < 8; i++) answers.push(await attempt(page, `nobody-${i}`, 'a guess'));
  expect(answers.filter((a) => a === 'Wrong username or password.').length).toBeGreaterThan(0);
  expect(answers.at(-1)).toMatch(/^Too many failed sign-ins from your address/);
  expect(await attempt(page, 'someone-else', 'a guess')).toMatch(/^Too many failed sign-ins from your address/);
});
