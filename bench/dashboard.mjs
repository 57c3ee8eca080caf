#!/usr/bin/env node
// Dashboard benchmark: the overview's server time with 10,000 jobs and 50 sources in the database, and how long
// a job event takes to reach an open page over Server-Sent Events.
//
//   npm run build && node bench/dashboard.mjs
//
// It starts the built app (`next start`) on a free port with a throw-away data directory, seeds the database
// directly (better-sqlite3), signs in with Chromium, then:
//   - requests / 30 times with the session cookie and reports the median and worst response time (all server
//     work: the session check, the queries and the render; the client and the network are on this machine);
//   - the same with 100 event streams open, as many open tabs would hold;
//   - in an open page, listens to /api/events and measures, for 20 "Back up now" jobs, the time from the job's
//     creation on the server (its createdAt) to the event's arrival in the page (one machine, one clock).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));
const Database = require('better-sqlite3');
const { chromium } = require('@playwright/test');

const SOURCES = 50;
const JOBS = 10_000;
const SNAPSHOTS_PER_SOURCE = 100;
const ADMIN = { user: 'bench-admin', password: 'bench admin password' };

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-bench-dashboard-'));
const url = `http://127.0.0.1:${port}`;

function startServer() {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'node_modules/next/dist/bin/next'), 'start', '--hostname', '127.0.0.1', '--port', String(port)],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LIFELINE_DATA_DIR: dataDir,
        LIFELINE_ADMIN_USER: ADMIN.user,
        LIFELINE_ADMIN_PASSWORD: ADMIN.password,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return child;
}

async function waitHealthy() {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not start');
}

async function stop(child) {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

// First start: migrations, admin, repository, the built-in source.
let server = startServer();
await waitHealthy();
await stop(server);

const db = new Database(path.join(dataDir, 'lifeline.db'));
const now = Date.now();
db.transaction(() => {
  const addPlan = db.prepare(
    "INSERT INTO plans (name, schedule, rpo_target_minutes, created_at) VALUES (?, '0 * * * *', 60, ?)",
  );
  const addSource = db.prepare(
    "INSERT INTO sources (plan_id, node, name, kind, path, created_at) VALUES (?, 'local', ?, 'directory', ?, ?)",
  );
  const addSnapshot = db.prepare(
    "INSERT INTO snapshots (id, source_key, time, ended_at, files, bytes, new_bytes, duration_ms, skipped, tags) VALUES (?, ?, ?, ?, 100, 1000000, 1000, 900, 0, '')",
  );
  const addJob = db.prepare(
    "INSERT INTO jobs (kind, source_id, status, requested_by, created_at, started_at, ended_at, files_done, files_total, bytes_done, bytes_total, new_bytes, snapshot_id, error) VALUES (?, ?, ?, 'schedule', ?, ?, ?, 100, 100, 1000000, 1000000, 1000, NULL, ?)",
  );
  for (let s = 1; s <= SOURCES; s++) {
    const plan = addPlan.run(`plan-${s}`, now).lastInsertRowid;
    const id = addSource.run(plan, `source-${s}`, ROOT, now).lastInsertRowid;
    for (let k = 0; k < SNAPSHOTS_PER_SOURCE; k++) {
      const end = now - k * 15 * 60_000 - s * 1000;
      addSnapshot.run(
        `${String(s).padStart(4, '0')}${String(k).padStart(4, '0')}`.padEnd(64, 'a'),
        `local:source-${s}`,
        end - 900,
        end,
      );
    }
    void id;
  }
  for (let j = 0; j < JOBS; j++) {
    const t = now - j * 60_000;
    const failed = j % 50 === 0;
    addJob.run(
      j % 10 === 0 ? 'restore' : 'backup',
      (j % SOURCES) + 2,
      failed ? 'failed' : 'succeeded',
      t - 1000,
      t - 900,
      t,
      failed ? 'disk full' : null,
    );
  }
})();
db.close();

server = startServer();
await waitHealthy();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ baseURL: url });
  await page.goto('/login');
  await page.getByLabel('Username').fill(ADMIN.user);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');

  async function overviewTimes() {
    const times = [];
    for (let i = 0; i < 32; i++) {
      const t = performance.now();
      const res = await fetch(`${url}/`, { headers: { cookie } });
      await res.text();
      if (i >= 2) times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b);
  }
  const times = await overviewTimes();
  // Many open tabs: 100 live event streams held open while the overview is measured again.
  const streams = await Promise.all(
    Array.from({ length: 100 }, async () => {
      const controller = new AbortController();
      const res = await fetch(`${url}/api/events`, { headers: { cookie }, signal: controller.signal });
      const reader = res.body.getReader();
      void (async () => {
        try {
          for (;;) if ((await reader.read()).done) break;
        } catch {}
      })();
      return controller;
    }),
  );
  const timesWithTabs = await overviewTimes();

  const watcher = await browser.newPage({ baseURL: url });
  await watcher.context().addCookies(await page.context().cookies());
  await watcher.goto('/backups');
  await watcher.evaluate(() => {
    window.latencies = [];
    const es = new EventSource('/api/events');
    es.addEventListener('job', (e) => {
      const { job } = JSON.parse(e.data);
      if (job.status === 'queued') window.latencies.push(Date.now() - job.createdAt);
    });
    return new Promise((r) => es.addEventListener('hello', r));
  });
  await page.goto('/backups');
  for (let i = 0; i < 20; i++) {
    const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'control-plane', exact: true }) });
    await row.getByRole('button', { name: 'Back up now' }).click();
    await page.waitForTimeout(150);
  }
  await page.waitForTimeout(1500);
  const latencies = (await watcher.evaluate(() => window.latencies)).sort((a, b) => a - b);
  for (const s of streams) s.abort();
  const median = (xs) => xs[Math.floor(xs.length / 2)];
  console.log(`dashboard benchmark: ${SOURCES} sources, ${JOBS} jobs, ${SOURCES * SNAPSHOTS_PER_SOURCE} snapshots`);
  console.log(
    `overview GET /: median ${median(times).toFixed(1)} ms, worst ${times.at(-1).toFixed(1)} ms over ${times.length} requests (target: at most 100 ms)`,
  );
  console.log(
    `overview GET / with 100 event streams open: median ${median(timesWithTabs).toFixed(1)} ms, worst ${timesWithTabs.at(-1).toFixed(1)} ms`,
  );
  console.log(
    `job event to an open page (100 other streams open): median ${median(latencies)} ms, worst ${latencies.at(-1)} ms over ${latencies.length} events (target: at most 500 ms)`,
  );
} finally {
  await browser.close();
  await stop(server);
  // Jobs the benchmark queued stop within a moment of the server (they watch their parent).
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 });
}
