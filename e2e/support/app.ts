// Each spec file gets its own server (`scripts/serve.mjs`, the built app, on a free port) with its own data directory, so first-run
// setup and seeded admins never collide between files.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { test as base } from '@playwright/test';

import type { EtcdServer } from '../../scripts/etcd.mjs';
import type { RadosgwServer } from '../../scripts/radosgw.mjs';

import { processesNaming } from '../../test/support/processes';
import { exitOf, waitFor } from '../../test/support/wait';
import { freePort } from '../../lib/engine/free-port';

export interface App {
  url: string;
  dataDir: string;
}

interface Running extends App {
  child: ChildProcess;
}

export { freePort };

export async function startServer(env: Record<string, string>, existingDataDir?: string): Promise<Running> {
  const port = await freePort();
  const dataDir = existingDataDir ?? mkdtempSync(path.join(os.tmpdir(), 'lifeline-e2e-'));
  const child = spawn(
    process.execPath,
    [path.join('scripts', 'serve.mjs'), '--hostname', '127.0.0.1', '--port', String(port)],
    {
      // The demo cluster only where a spec asks for it (LIFELINE_DEMO: '1').
      env: {
        ...process.env,
        LIFELINE_DEMO: '0',
        ...env,
        LIFELINE_DATA_DIR: dataDir,
        LIFELINE_URL: `http://127.0.0.1:${port}`,
        PORT: String(port),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'the server to answer /api/health',
    async () => {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      return (await fetch(`${url}/api/health`)).ok;
    },
    60_000,
  );
  return { url, dataDir, child };
}

export async function stopServer(server: Running, signal: NodeJS.Signals = 'SIGTERM', keepData = false): Promise<void> {
  if (server.child.exitCode === null) {
    server.child.kill(signal);
    await waitFor('the server to exit', exitOf(server.child), 60_000);
  }
  if (!keepData) {
    await stopDaemons(server.dataDir);
    // A CLI the server ran (its cache is in the data directory) stops within a moment of being orphaned, and may
    // write there until it has.
    await waitFor("the server's commands to stop", () => processesNaming(`${server.dataDir}/`).length === 0, 20_000);
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}

/** Stops the agents and endpoints the server started detached (they outlive a server restart on purpose). */
export async function stopDaemons(dataDir: string): Promise<void> {
  const run = path.join(dataDir, 'run');
  if (!existsSync(run)) return;
  const pids = readdirSync(run)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(path.join(run, f), 'utf8')));
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGTERM');
  await waitFor('the agents and endpoints to stop', () => !pids.some(alive), 20_000);
}

const servers = new Map<string, Promise<Running>>();

export const test = base.extend<
  { serverEnv: Record<string, string>; app: App },
  // biome-ignore lint/suspicious/noConfusingVoidType: an auto fixture that provides no value is typed void
  { serverPool: void; s3: RadosgwServer; etcd: EtcdServer }
>({
  serverEnv: [{}, { option: true }],
  // A throw-away radosgw, started for the first test that asks for it and shared by every spec file of the worker
  // (each uses buckets of its own). Started as a command: Playwright's loader cannot import the script.
  s3: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern
    async ({}, use, workerInfo) => {
      const dir = path.resolve('test-results', `radosgw-e2e-${workerInfo.workerIndex}`);
      execFileSync(process.execPath, ['scripts/radosgw.mjs', 'start', dir], { stdio: 'ignore', timeout: 170_000 });
      try {
        await use(JSON.parse(readFileSync(path.join(dir, 'server.json'), 'utf8')) as RadosgwServer);
      } finally {
        execFileSync(process.execPath, ['scripts/radosgw.mjs', 'stop', dir], { stdio: 'ignore' });
      }
    },
    { scope: 'worker', timeout: 180_000 },
  ],
  // A throw-away one-member etcd, the same way.
  etcd: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern
    async ({}, use, workerInfo) => {
      const dir = path.resolve('test-results', `etcd-e2e-${workerInfo.workerIndex}`);
      execFileSync(process.execPath, ['scripts/etcd.mjs', 'start', dir], { stdio: 'ignore', timeout: 110_000 });
      try {
        await use(JSON.parse(readFileSync(path.join(dir, 'server.json'), 'utf8')) as EtcdServer);
      } finally {
        execFileSync(process.execPath, ['scripts/etcd.mjs', 'stop', dir], { stdio: 'ignore' });
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  serverPool: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern
    async ({}, use) => {
      await use();
      for (const s of servers.values()) await stopServer(await s);
    },
    { scope: 'worker', auto: true },
  ],
  app: async ({ serverEnv }, use, testInfo) => {
    let server = servers.get(testInfo.file);
    if (!server) {
      // A new file: the previous file's server is done.
      for (const [file, other] of servers) {
        servers.delete(file);
        await stopServer(await other);
      }
      server = startServer(serverEnv);
      servers.set(testInfo.file, server);
    }
    const { url, dataDir } = await server;
    await use({ url, dataDir });
  },
  baseURL: async ({ app }, use) => use(app.url),
});

export { expect } from '@playwright/test';
