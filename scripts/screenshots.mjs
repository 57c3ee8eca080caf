// `npm run screenshots`: the README's pictures, taken from the built app with its demo running: the overview, and
// the Nodes page after "Fail primary" (the failover's timeline, RTO, RPO and lost writes). Needs `next build` and
// Chromium (CHROMIUM_PATH, /usr/bin/chromium by default). Writes docs/screenshot.png and docs/screenshot-nodes.png.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { chromium } from '@playwright/test';

function alive(pidFile) {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

const ADMIN = { username: 'admin', password: 'a demo password' };

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until(what, check, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-screenshots-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const server = spawn(process.execPath, ['scripts/serve.mjs', '--hostname', '127.0.0.1', '--port', String(port)], {
  env: {
    ...process.env,
    LIFELINE_DATA_DIR: dataDir,
    LIFELINE_URL: url,
    LIFELINE_DEMO: '1',
    LIFELINE_DEMO_COORDINATION: 'dashboard',
    LIFELINE_ADMIN_USER: ADMIN.username,
    LIFELINE_ADMIN_PASSWORD: ADMIN.password,
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
try {
  await until('the server', async () => (await fetch(`${url}/api/health`)).ok, 60_000);
  const page = await browser.newPage({ baseURL: url, viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  await page.goto('/login');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  // A backup of the control plane's own data, so the overview has a snapshot and a chart.
  await page.goto('/backups');
  await page.getByRole('button', { name: 'Back up now' }).first().click();
  await page
    .getByRole('status')
    .filter({ hasText: /done\.$/ })
    .first()
    .waitFor({ timeout: 60_000 });
  await page.goto('/nodes');
  const group = page.getByRole('region', { name: 'Group demo-notes' });
  await group
    .getByRole('article', { name: 'Node demo-b' })
    .getByText(/Data from/)
    .waitFor({ timeout: 60_000 });
  await page.goto('/');
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: 'docs/screenshot.png', fullPage: false });
  await page.goto('/nodes');
  await page.getByRole('button', { name: 'Fail primary' }).click();
  await group
    .getByRole('table', { name: 'Failovers of demo-notes' })
    .getByRole('row')
    .filter({ hasText: 'demo-a → demo-b' })
    .waitFor({ timeout: 60_000 });
  await group.getByRole('table', { name: 'Failovers of demo-notes' }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'docs/screenshot-nodes.png', fullPage: false });
  console.log('wrote docs/screenshot.png and docs/screenshot-nodes.png');
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  // The demo's agents and endpoint run detached (they outlive a restart of the dashboard): stop them too.
  const run = path.join(dataDir, 'run');
  for (const file of existsSync(run) ? readdirSync(run).filter((f) => f.endsWith('.pid')) : []) {
    try {
      process.kill(Number(readFileSync(path.join(run, file), 'utf8')), 'SIGTERM');
    } catch {
      // gone already
    }
  }
  await until(
    'the demo to stop',
    async () => !readdirSync(run).some((f) => f.endsWith('.pid') && alive(path.join(run, f))),
    20_000,
  );
  rmSync(dataDir, { recursive: true, force: true });
}
