// 10.3: the console (its "Fail primary" and every other button) cannot be framed by another page, answers only the host names it is reached by, and refuses a
// server action from another origin with a 4xx; every page carries the security headers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect, test } from './support/app';
import { SEEDED_ADMIN, signIn } from './support/steps';

test.describe.configure({ mode: 'serial' });
test.use({ serverEnv: SEEDED_ADMIN });

/** A raw request to the dashboard with the headers given (fetch would not send a Host of our choosing). */
function raw(
  base: string,
  options: { method?: string; path?: string; headers: Record<string, string> },
): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: options.path ?? '/login',
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.method === 'POST' ? '[]' : undefined);
  });
}

test('10.3 every page carries a policy with a nonce, no framing, nosniff and a referrer policy, and still works', async ({
  page,
}) => {
  const login = await page.goto('/login');
  const headers = login!.headers();
  expect(headers['content-security-policy']).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('same-origin');
  expect(headers['strict-transport-security']).toBeUndefined();
  const violations: string[] = [];
  page.on(
    'console',
    (m) => m.type() === 'error' && /Content Security Policy/.test(m.text()) && violations.push(m.text()),
  );
  // Signing in runs the page's scripts: a policy that blocked them would leave the form dead.
  await signIn(page);
  const home = await page.goto('/nodes');
  expect(home!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
  await expect(page.getByRole('region', { name: 'Register a node' })).toBeVisible();
  expect(violations).toEqual([]);
});

test('10.3 a page on another local port cannot frame the signed-in console', async ({ page, app }) => {
  await signIn(page);
  const attacker = http.createServer((_req, res) =>
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(`<iframe id="victim" src="${app.url}/nodes" onload="document.title='framed'"></iframe>`),
  );
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', () => r()));
  try {
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    await expect(page).toHaveTitle('framed');
    const frame = page.frame({ url: /\/nodes$/ }) ?? page.frames().find((f) => f !== page.mainFrame());
    // The browser shows its own error page in the frame instead of the console and its buttons.
    expect(await frame?.locator('text=Register a node').count()).toBe(0);
    expect(await page.frameLocator('#victim').getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  } finally {
    attacker.close();
  }
});

test('10.3 a request for another host name is refused with 421, and a server action from another origin with 403', async ({
  app,
}) => {
  const port = new URL(app.url).port;
  const rebound = await raw(app.url, { path: '/setup', headers: { host: `rebind.example:${port}` } });
  expect(rebound.status).toBe(421);
  expect(rebound.body).toMatch(/does not answer to the host "rebind.example:\d+": add it to LIFELINE_ALLOWED_HOSTS/);
  // Forged Host and a matching forged Origin: the host is refused first.
  const forged = await raw(app.url, {
    method: 'POST',
    path: '/login',
    headers: { host: 'evil.example', origin: 'http://evil.example', 'next-action': '0'.repeat(40) },
  });
  expect(forged.status).toBe(421);
  const crossSite = await raw(app.url, {
    method: 'POST',
    path: '/login',
    headers: { host: `127.0.0.1:${port}`, origin: 'http://127.0.0.1:1', 'next-action': '0'.repeat(40) },
  });
  expect(crossSite.status).toBe(403);
  expect(crossSite.body).toMatch(/another site cannot act on this dashboard/);
  expect((await raw(app.url, { headers: { host: `localhost:${port}` } })).status).toBe(200);
});
