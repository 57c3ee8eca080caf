// The control plane's side for integration tests that run in the dashboard's process: servers on loopback,
// a webhook that records notifications, and real agents registered with the control plane and run from the
// configs it issues. The control plane's modules are imported on first use, after the test has set
// LIFELINE_DATA_DIR.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { freePort } from '@/lib/engine/free-port';
import { CLI } from '../helpers';
import { NOTES_SERVICE } from './cluster';
import { exitOf, waitFor } from './wait';

const servers: http.Server[] = [];
const agents: ChildProcess[] = [];

/** Listens on a free loopback port; closed by stopControlPlaneParts. */
export async function listen(server: http.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A webhook notification channel: every notification the control plane sends lands in the returned list. */
export async function webhookSink(): Promise<{ type: string; [k: string]: unknown }[]> {
  const { db } = await import('@/lib/db/client');
  const { notificationChannels } = await import('@/lib/db/schema');
  const received: { type: string; [k: string]: unknown }[] = [];
  const hook = await listen(
    http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    }),
  );
  db()
    .insert(notificationChannels)
    .values({ kind: 'webhook', target: hook, createdAt: Date.now(), allowPrivate: true })
    .run();
  return received;
}

export interface RegisteredAgent {
  nodeId: string;
  credentials: { nodeId: string; secret: string };
  /** The node's directory: its service's data under service/, the agent's state under agent/. */
  dir: string;
  /** Its agent's config file. */
  configFile: string;
  agentPort: number;
  agent: ChildProcess;
}

/** Registers a node running the notes service, writes the agent config the control plane issues, and runs the
 *  agent until it listens. The control plane's storage API must be at LIFELINE_URL. */
/** Registers node `name` and runs its agent from the config the dashboard issues, guarding the notes service (or,
 *  with `service`, what that says in its place). */
export async function startRegisteredAgent(
  name: string,
  service?: (port: number, dir: string) => Record<string, unknown>,
): Promise<RegisteredAgent> {
  const { agentConfig, registerNode } = await import('@/lib/control/node-registry');
  const agentPort = await freePort();
  const servicePort = await freePort();
  const { node, credentials } = await registerNode({
    name,
    agentUrl: `http://127.0.0.1:${agentPort}`,
    serviceHost: '127.0.0.1',
    servicePort,
  });
  const dir = path.join(process.env.LIFELINE_DATA_DIR!, 'nodes', name);
  const config = agentConfig(
    node,
    credentials,
    service?.(servicePort, dir) ?? {
      command: [process.execPath, NOTES_SERVICE],
      env: { PORT: '{port}', NOTES_DB: '{dataDir}/notes.db' },
      port: servicePort,
      health: { httpPath: '/health' },
      dataDir: path.join(dir, 'service'),
      sqlite: ['notes.db'],
    },
    path.join(dir, 'agent'),
  );
  const file = path.join(process.env.LIFELINE_DATA_DIR!, `${name}.json`);
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  const agent = await runAgent(file, agentPort);
  return { nodeId: node.id, credentials, dir, configFile: file, agentPort, agent };
}

/** Agents a test is stopping on purpose. */
const stopping = new WeakSet<ChildProcess>();

async function runAgent(configFile: string, agentPort: number): Promise<ChildProcess> {
  const { probeTcp } = await import('@/lib/engine/nodes/health-probe');
  // Its output beside its config (<config>.log): what an agent said before it stopped is there to read (with
  // KEEP_TMP=1, the tests' directories stay after the run).
  const log = openSync(`${configFile}.log`, 'a');
  const agent = spawn(process.execPath, [CLI, 'agent', '--config', configFile], {
    stdio: ['ignore', log, log],
    env: { ...process.env, LIFELINE_EXIT_WITH_PARENT: String(process.pid) },
  });
  closeSync(log);
  agents.push(agent);
  // An agent that ends before the test stops it says why on the test's output (its log is gone with the test's
  // directory otherwise).
  agent.once('exit', (code, signal) => {
    if (stopping.has(agent)) return;
    let said: string;
    try {
      said = readFileSync(`${configFile}.log`, 'utf8').split('\n').slice(-40).join('\n');
    } catch (err) {
      said = `(its log could not be read: ${(err as Error).message})`;
    }
    console.error(`the agent of ${path.basename(configFile)} ended (${signal ?? code}); the last it said:\n${said}`);
  });
  await waitFor(
    `the agent of ${path.basename(configFile)} to listen`,
    async () => (await probeTcp({ host: '127.0.0.1', port: agentPort }, 1000)).ok,
    20_000,
  );
  return agent;
}

/** Ends a registered node's agent on purpose (a machine that lost power: SIGKILL), quietly. */
export function killAgent(registered: RegisteredAgent, signal: NodeJS.Signals = 'SIGKILL'): void {
  stopping.add(registered.agent);
  registered.agent.kill(signal);
}

/** Stops a registered node's agent (SIGTERM) and runs it again from its config file, as an operator does after
 *  installing a new config. */
export async function restartRegisteredAgent(registered: RegisteredAgent): Promise<void> {
  stopping.add(registered.agent);
  registered.agent.kill('SIGTERM');
  await waitFor('the agent to exit', exitOf(registered.agent), 20_000);
  registered.agent = await runAgent(registered.configFile, registered.agentPort);
}

/** Stops every failover group (its coordinator and endpoint), every agent started here (SIGTERM, then waits for
 *  each to exit), and closes every server. */
export async function stopControlPlaneParts(): Promise<void> {
  const { stopGroupAndEndpoint } = await import('@/lib/control/failover');
  const { db } = await import('@/lib/db/client');
  const { failoverGroups } = await import('@/lib/db/schema');
  for (const g of db().select().from(failoverGroups).all()) await stopGroupAndEndpoint(g);
  for (const agent of agents.splice(0)) {
    stopping.add(agent);
    agent.kill('SIGTERM');
    await waitFor('an agent to exit', exitOf(agent), 20_000);
  }
  for (const server of servers.splice(0)) server.close();
}

/** Queues a backup of a source through the dashboard's job queue, as "Back up now" does, and waits for the job
 *  to end: its row as the queue left it. */
export async function runBackupJob(sourceId: number, timeoutMs = 60_000) {
  const { enqueueBackup } = await import('@/lib/control/job-queue');
  const { db } = await import('@/lib/db/client');
  const { jobs } = await import('@/lib/db/schema');
  const { eq } = await import('drizzle-orm');
  const queued = enqueueBackup(sourceId, 'test');
  return waitFor(
    `backup job ${queued.id} to end`,
    () => {
      const row = db().select().from(jobs).where(eq(jobs.id, queued.id)).get();
      return row && ['succeeded', 'failed', 'cancelled'].includes(row.status) ? row : null;
    },
    timeoutMs,
  );
}

/** A directory source of the dashboard under a plan of its own (`plan`: the plan's columns to set). */
export async function addDirectorySource(
  name: string,
  dir: string,
  plan: { keepLast?: number; rpoTargetMinutes?: number; preCommand?: string } = {},
) {
  const { db } = await import('@/lib/db/client');
  const { plans, sources } = await import('@/lib/db/schema');
  const row = db()
    .insert(plans)
    .values({ name, createdAt: Date.now(), ...plan })
    .returning()
    .get();
  return db()
    .insert(sources)
    .values({ planId: row.id, name, kind: 'directory', path: dir, createdAt: Date.now() })
    .returning()
    .get();
}
