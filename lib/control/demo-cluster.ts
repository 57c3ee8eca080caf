// The demo cluster that `npm start` runs unless LIFELINE_DEMO=0: two nodes (agents as detached child processes,
// each with its own directory under <data>/demo) guarding the notes service shipped with the project, a stable
// endpoint in front, a steady write load through it, a backup plan and the failover group, all registered; the
// group then moves to its own coordination store (demo-coordination.ts: one etcd member, or the embedded store).
// Ports are picked free on first start and kept while they stay free.
import 'server-only';

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { eq } from 'drizzle-orm';

import { WriteLoad } from '../demo/write-load';
import { dataDir } from '../config';
import { db } from '../db/client';
import { failoverGroups, nodes, plans, sources, type NodeRow } from '../db/schema';
import { freePort } from '../engine/free-port';
import { daemonPid, ensureDaemon, portFree, stopDaemon, waitForPort } from './daemons';
import { ensureDemoStore } from './demo-coordination';
import { createFailoverGroup, migrateToEtcd, primaryServicePid, startGroup } from './failover';
import { agentConfig, registerNode, type NodeCredentials } from './node-registry';

export const DEMO_GROUP = 'demo-notes';
/** In order of priority: demo-a starts as primary. */
const DEMO_NODES = ['demo-a', 'demo-b'];
/** How long the demo group may take to have a primary that can move to the demo's store. */
const MOVE_TIMEOUT_MS = 60_000;

export function demoEnabled(): boolean {
  return process.env.LIFELINE_DEMO !== '0';
}

function demoDir(...parts: string[]): string {
  return path.join(dataDir(), 'demo', ...parts);
}

function configFile(name: string): string {
  return demoDir(name, 'agent.json');
}

function serviceSection(node: NodeRow) {
  return {
    command: [process.execPath, path.join(process.cwd(), 'dist', 'notes-service.cjs')],
    env: { PORT: '{port}', NOTES_DB: '{dataDir}/notes.db' },
    port: node.servicePort,
    host: node.serviceHost,
    health: { httpPath: '/health' },
    dataDir: demoDir(node.name, 'service'),
    sqlite: ['notes.db'],
  };
}

/** Registers a demo node, or moves it to free ports if its old ones were taken while it was stopped. */
async function ensureNode(name: string): Promise<NodeRow> {
  let node = db().select().from(nodes).where(eq(nodes.name, name)).get();
  if (!node) {
    const agentPort = await freePort();
    const { node: created, credentials } = await registerNode({
      name,
      agentUrl: `http://127.0.0.1:${agentPort}`,
      serviceHost: '127.0.0.1',
      servicePort: await freePort(),
      demo: true,
    });
    mkdirSync(demoDir(name), { recursive: true, mode: 0o700 });
    writeFileSync(
      configFile(name),
      JSON.stringify(agentConfig(created, credentials, serviceSection(created), demoDir(name, 'agent')), null, 2),
      { mode: 0o600 },
    );
    node = created;
  }
  if (daemonPid(`agent-${name}`)) return node;
  const agentPort = Number(new URL(node.agentUrl).port);
  const moved = {
    agentUrl: (await portFree('127.0.0.1', agentPort)) ? node.agentUrl : `http://127.0.0.1:${await freePort()}`,
    servicePort: (await portFree('127.0.0.1', node.servicePort)) ? node.servicePort : await freePort(),
  };
  if (moved.agentUrl !== node.agentUrl || moved.servicePort !== node.servicePort) {
    node = db().update(nodes).set(moved).where(eq(nodes.id, node.id)).returning().get();
  }
  // The config keeps the credentials issued at registration; the addresses follow the node's row.
  const config = JSON.parse(readFileSync(configFile(name), 'utf8')) as Record<string, unknown>;
  const url = new URL(node.agentUrl);
  writeFileSync(
    configFile(name),
    JSON.stringify({ ...config, listen: `${url.hostname}:${url.port}`, service: serviceSection(node) }, null, 2),
    { mode: 0o600 },
  );
  return node;
}

export async function ensureDemoCluster(): Promise<void> {
  if (!demoEnabled()) return;
  // First: its ports are kept from the first start, before the nodes pick free ones.
  const coordinated = await ensureDemoStore();
  const members = [];
  for (const name of DEMO_NODES) {
    const node = await ensureNode(name);
    ensureDaemon(`agent-${node.name}`, ['agent', '--config', configFile(node.name)]);
    const url = new URL(node.agentUrl);
    await waitForPort(url.hostname, Number(url.port));
    members.push({ node });
  }
  let group = db().select().from(failoverGroups).where(eq(failoverGroups.name, DEMO_GROUP)).get();
  if (!group) {
    group = createFailoverGroup({
      name: DEMO_GROUP,
      endpointHost: '127.0.0.1',
      endpointPort: await freePort(),
      shippingIntervalMs: 5000,
      memberIds: members.map((m) => m.node.id),
      demo: true,
    });
  } else if (!daemonPid(`endpoint-${group.name}`) && !(await portFree(group.endpointHost, group.endpointPort))) {
    group = db()
      .update(failoverGroups)
      .set({ endpointPort: await freePort() })
      .where(eq(failoverGroups.id, group.id))
      .returning()
      .get();
  }
  ensureDemoPlan();
  const load = new WriteLoad(`http://${group.endpointHost}:${group.endpointPort}`, { intervalMs: 100 });
  await startGroup(group.id, load);
  await waitForPort(group.endpointHost, group.endpointPort);
  load.start();
  if (coordinated && group.coordination !== 'etcd') await moveDemoGroup(group.id);
}

/** Moves the demo group to its store once a member serves (the dashboard's coordinator picks the first primary).
 *  A move cut short is finished at the next start. */
async function moveDemoGroup(groupId: string): Promise<void> {
  const deadline = Date.now() + MOVE_TIMEOUT_MS;
  for (;;) {
    const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get()!;
    const moved = await migrateToEtcd(group);
    if (moved.ok) return;
    if (Date.now() > deadline) throw new Error(`the demo group did not move to its store: ${moved.error}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A scheduled backup of the demo's data (both nodes' databases, found by their SQLite header). */
function ensureDemoPlan(): void {
  if (db().select().from(plans).where(eq(plans.name, DEMO_GROUP)).get()) return;
  const plan = db()
    .insert(plans)
    .values({ name: DEMO_GROUP, schedule: '*/15 * * * *', rpoTargetMinutes: 30, keepLast: 24, createdAt: Date.now() })
    .returning()
    .get();
  db()
    .insert(sources)
    .values({ planId: plan.id, name: 'demo-data', kind: 'directory', path: demoDir(), createdAt: Date.now() })
    .run();
}

/** "Fail primary": kills the primary's service process with SIGKILL, the way a crash would. */
export async function failDemoPrimary(): Promise<{ ok: true; nodeId: string } | { ok: false; error: string }> {
  const group = db().select().from(failoverGroups).where(eq(failoverGroups.name, DEMO_GROUP)).get();
  if (!group) return { ok: false, error: 'the demo cluster is not running' };
  const target = await primaryServicePid(group.id);
  if (!target) return { ok: false, error: 'the group has no serving primary right now' };
  process.kill(target.pid, 'SIGKILL');
  return { ok: true, nodeId: target.nodeId };
}

/** After a rotation: the demo agent's config gets the new credentials, and the agent restarts with them. */
export async function reconfigureDemoAgent(
  node: NodeRow,
  credentials: NodeCredentials,
  /** Its new etcd settings, when its etcd password was rotated with its credentials. */
  etcd: Record<string, unknown> | null = null,
): Promise<void> {
  const config = JSON.parse(readFileSync(configFile(node.name), 'utf8')) as Record<string, unknown>;
  writeFileSync(
    configFile(node.name),
    JSON.stringify({ ...config, secret: credentials.secret, ...(etcd ? { etcd } : {}) }, null, 2),
    { mode: 0o600 },
  );
  await restartDemoAgent(node.id);
}

/** Brings a demo node's agent back if it was stopped; it rejoins the group as a standby. */
export async function restartDemoAgent(nodeId: string): Promise<void> {
  const node = db().select().from(nodes).where(eq(nodes.id, nodeId)).get();
  if (!node?.demo || !existsSync(configFile(node.name))) throw new Error('not a demo node');
  await stopDaemon(`agent-${node.name}`);
  await ensureNode(node.name);
  ensureDaemon(`agent-${node.name}`, ['agent', '--config', configFile(node.name)]);
}
