// A failover group coordinated on a real etcd, for integration tests: the nodes, repositories and storage API of
// cluster.ts, each agent (a child process running the CLI) with the etcd section in its config and the watchdog
// beside it, the group's settings and sealed keys written to etcd as the dashboard writes them, and the stable
// endpoint as its own process (`lifeline endpoint --etcd`) following the leader key. No coordinator runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';

import { EtcdStore } from '@/lib/engine/coordination/etcd-store';
import {
  CONFIG_KEY,
  GROUP_SETTINGS_DEFAULTS,
  groupPrefix,
  LEADER_KEY,
  MEMBERS_PREFIX,
  NODE_GROUP_KEY,
  nodePrefix,
  sealedKeyName,
  type GroupSettings,
} from '@/lib/engine/coordination/group-keys';
import { freePort } from '@/lib/engine/free-port';
import { sealGroupKey } from '@/lib/engine/nodes/group-key';
import { type ClusterBase, prepareCluster, type TestNode } from './cluster';
import { exitOf, waitFor } from './wait';

const ROOT = path.resolve(__dirname, '..', '..');

export interface EtcdEndpoint {
  url: string;
  process: ChildProcess;
  /** Every route the endpoint announced, in order. */
  routes: { holder: string | null; token: string | null; why: string }[];
}

export interface EtcdCluster extends ClusterBase {
  /** Reads and writes the group's keys as the dashboard does (no authentication: the tests' etcd has none). */
  store: EtcdStore;
  /** The etcd root this cluster's keys live under: every cluster has its own. */
  root: string;
  settings: GroupSettings;
  /** Starts a `lifeline endpoint --etcd` process; `etcdUrls` defaults to the cluster's. */
  startEndpoint(etcdUrls?: string[]): Promise<EtcdEndpoint>;
  /** Who holds the leader key now. */
  leader(): Promise<{ holder: string; token: string } | null>;
  nodeById(nodeId: string): TestNode;
  /** With `endpointsBesideAgents`: the address of the endpoint each agent runs (by node name). */
  agentEndpoints: Map<string, string>;
  /** Whether every member but `leader` says (on etcd) that it may take the key: none in its cooldown after a
   *  failure of its own service. */
  allMayTakeOver(leader: string): Promise<boolean>;
}

export interface EtcdClusterOptions {
  etcd: string[];
  nodes?: number;
  settings?: Partial<Omit<GroupSettings, 'members'>>;
  /** Where each node's agent reaches etcd (a proxy a test can cut); the cluster's endpoints by default. */
  etcdFor?: (node: TestNode) => string[];
  /** Each agent runs an endpoint beside itself (its config's `endpoint`). */
  endpointsBesideAgents?: boolean;
}

/** A root of its own under which a test's groups live in a shared etcd. */
export const testRoot = () => `/t-${randomBytes(4).toString('hex')}/`;

/** Writes what the dashboard writes for a group: its settings, each member's sealed key, and each node's group.
 *  Returns a store on the group's prefix. */
export async function writeGroup(
  etcd: string[],
  root: string,
  base: ClusterBase,
  settings: Partial<Omit<GroupSettings, 'members'>> = {},
): Promise<{ store: EtcdStore; settings: GroupSettings }> {
  const full: GroupSettings = {
    ...GROUP_SETTINGS_DEFAULTS,
    ttlSeconds: 3,
    renewMs: 1000,
    shippingIntervalMs: 1000,
    agents: Object.fromEntries(base.nodes.map((n) => [n.nodeId, `http://127.0.0.1:${n.agentPort}`])),
    ...settings,
    members: Object.fromEntries(base.nodes.map((n) => [n.nodeId, base.serviceAddress(n)])),
  };
  const admin = new EtcdStore({ endpoints: etcd, prefix: root });
  const store = new EtcdStore({ endpoints: etcd, prefix: groupPrefix(root, base.groupId) });
  await store.put(CONFIG_KEY, JSON.stringify(full));
  for (const node of base.nodes) {
    await store.put(sealedKeyName(node.nodeId), sealGroupKey(node.secret, base.groupKey));
    await admin.put(nodePrefix('', node.nodeId) + NODE_GROUP_KEY, base.groupId);
  }
  admin.close();
  return { store, settings: full };
}

export async function startEtcdCluster(options: EtcdClusterOptions): Promise<EtcdCluster> {
  const root = testRoot();
  const agentEndpoints = new Map<string, string>();
  const ports = new Map<string, number>();
  for (let i = 0; i < (options.nodes ?? 2); i++)
    if (options.endpointsBesideAgents) ports.set(`node-${String.fromCharCode(97 + i)}`, await freePort());
  const base = await prepareCluster({ nodes: options.nodes }, (node) => {
    const port = ports.get(node.name);
    if (port) agentEndpoints.set(node.name, `http://127.0.0.1:${port}`);
    return {
      etcd: { endpoints: options.etcdFor?.(node) ?? options.etcd, root },
      ...(port ? { endpoint: { listen: `127.0.0.1:${port}` } } : {}),
    };
  });
  const { store, settings } = await writeGroup(options.etcd, root, base, options.settings);
  await Promise.all(base.nodes.map(base.startAgent));

  const endpoints: EtcdEndpoint[] = [];
  const cluster: EtcdCluster = {
    ...base,
    store,
    root,
    settings,
    leader: () => store.leader(LEADER_KEY),
    nodeById: (nodeId) => base.nodes.find((n) => n.nodeId === nodeId)!,
    agentEndpoints,
    async allMayTakeOver(leader) {
      const published = await store.list(MEMBERS_PREFIX);
      return base.nodes
        .filter((n) => n.nodeId !== leader)
        .every((n) => {
          const entry = published.get(n.nodeId);
          return entry !== undefined && (JSON.parse(entry) as { eligible?: boolean }).eligible === true;
        });
    },
    async startEndpoint(etcdUrls = options.etcd) {
      const endpoint = await spawnEtcdEndpoint(etcdUrls, root, base.groupId);
      endpoints.push(endpoint);
      return endpoint;
    },
    async stop() {
      await stopEndpoints(endpoints);
      await base.stop();
      store.close();
    },
  };
  return cluster;
}

export async function stopEndpoints(endpoints: EtcdEndpoint[]): Promise<void> {
  for (const e of endpoints)
    if (e.process.exitCode === null && e.process.signalCode === null) {
      e.process.kill('SIGTERM');
      await waitFor('the endpoint to exit', exitOf(e.process), 20_000);
    }
}

/** A `lifeline endpoint --etcd` process following `groupId`'s leader key under `root`. */
export async function spawnEtcdEndpoint(etcdUrls: string[], root: string, groupId: string): Promise<EtcdEndpoint> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'dist', 'lifeline.cjs'),
      'endpoint',
      '--listen',
      `127.0.0.1:${port}`,
      '--etcd',
      etcdUrls.join(','),
      '--etcd-root',
      root,
      '--group',
      groupId,
      '--json',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LIFELINE_EXIT_WITH_PARENT: String(process.pid) },
    },
  );
  const endpoint: EtcdEndpoint = { url: `http://127.0.0.1:${port}`, process: child, routes: [] };
  const started = new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { type: string; message?: string } & EtcdEndpoint['routes'][number];
      if (msg.type === 'result') resolve();
      if (msg.type === 'route') endpoint.routes.push({ holder: msg.holder, token: msg.token, why: msg.why });
      if (msg.type === 'error') reject(new Error(msg.message));
    });
    child.once('exit', (code) => reject(new Error(`the endpoint exited with ${code}`)));
  });
  await waitFor('the endpoint to listen', started, 20_000);
  return endpoint;
}
