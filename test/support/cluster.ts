// A real failover group on loopback for integration tests: a repository with one of its own for each node and for
// the group (lib/engine/nodes/tenants.ts), served through the control plane's storage API (append-only for nodes), agents as child processes running the CLI, each guarding the demo notes
// service, a stable endpoint in front, and the coordinator driving them. Nothing is simulated: a "partition"
// is a real TCP proxy between the coordinator and an agent that stops forwarding.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { initRepository, writeKeyFile, type Repository } from '@/lib/engine';
import {
  GroupCoordinator,
  GROUP_DEFAULTS,
  type FailoverRecord,
  type GroupConfig,
} from '@/lib/engine/failover/coordinator';
import { StableEndpoint } from '@/lib/engine/failover/stable-endpoint';
import { freePort } from '@/lib/engine/free-port';
import { AgentClient } from '@/lib/engine/nodes/agent-client';
import { AppendOnlyAccess } from '@/lib/engine/nodes/append-only-access';
import { newSecret } from '@/lib/engine/nodes/signed-request';
import { StorageService } from '@/lib/engine/nodes/storage-service';
import {
  groupRepositoryPassword,
  nodeRepositoryPassword,
  tenantLocation,
  tenantPath,
  type Tenant,
} from '@/lib/engine/nodes/tenants';
import { exitOf, waitFor } from './wait';

const PASSWORD = 'cluster repository passphrase';
/** The group's id: its repository is tenants/groups/notes. */
const GROUP_ID = 'notes';
/** A cheap scrypt cost: these repositories live for one test. */
const TEST_KDF = { N: 2 ** 10, r: 8, p: 1 };

const ROOT = path.resolve(__dirname, '..', '..');
export const NOTES_SERVICE = path.join(ROOT, 'dist', 'notes-service.cjs');

export interface TestNode {
  nodeId: string;
  name: string;
  secret: string;
  agentPort: number;
  servicePort: number;
  /** The coordinator reaches the agent through this proxy, so a test can cut it off. */
  link: StableEndpoint;
  linkPort: number;
  /** The coordinator (and the stable endpoint) reach the service through this one. */
  serviceLink: StableEndpoint;
  configFile: string;
  stateDir: string;
  process: ChildProcess | null;
  /** A client that talks to the agent directly, bypassing the link. */
  direct: AgentClient;
}

export interface Cluster {
  /** What it shares with an etcd-coordinated cluster. */
  base: ClusterBase;
  dir: string;
  /** The control plane's repository; each node's and the group's are below it (tenants.ts). */
  repository: string;
  /** A node's own repository: its backups. */
  nodeRepository(node: TestNode): string;
  /** The group's repository: the primary's shipped data. */
  groupRepository: string;
  /** The control plane's storage API (append-only for nodes). */
  storageUrl: string;
  endpoint: StableEndpoint;
  endpointUrl: string;
  nodes: TestNode[];
  coordinator: GroupCoordinator;
  records: FailoverRecord[];
  /** Every probe result of a primary's service, in order. */
  serviceProbes: { nodeId: string; ok: boolean; at: number }[];
  startAgent(node: TestNode): Promise<void>;
  /** A control plane that comes back: a new coordinator from what the last one saved (its primary and epochs). */
  restartCoordinator(): void;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  /** False: the coordinator ignores the agents' crash reports and finds failures by probes alone. */
  agentReports?: boolean;
  /** Nodes (by name) whose agents run plan commands. */
  runPlanCommands?: string[];
  /** Nodes (by name) whose agents restore other sources' snapshots. */
  restoreOtherSources?: string[];
  group?: Partial<Omit<GroupConfig, 'members' | 'id' | 'name' | 'groupKey'>>;
}

/** What an etcd-coordinated cluster and a coordinator-driven one share: nodes, repositories, the storage API and
 *  the agents' configs (with `extraConfig` added to each). */
export interface ClusterBase {
  dir: string;
  repository: string;
  groupId: string;
  groupKey: string;
  nodes: TestNode[];
  /** Each node's service as the endpoint reaches it (through its serviceLink). */
  serviceAddress(node: TestNode): { host: string; port: number };
  storageUrl: string;
  /** Takes the storage API down (as when the dashboard's process is killed: every connection cut), and brings it
   *  back on the same port. */
  storageDown(): Promise<void>;
  storageUp(): Promise<void>;
  startAgent(node: TestNode): Promise<void>;
  /** Stops every agent still running, the links and the storage API, and removes the directory. */
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const base = await prepareCluster(options, () => ({}));
  const { dir, repository, groupKey, nodes, startAgent } = base;
  await Promise.all(nodes.map(startAgent));
  const endpoint = new StableEndpoint({ holdMs: 20_000 });
  const endpointPort = await endpoint.start();
  const endpointUrl = `http://127.0.0.1:${endpointPort}`;
  const records: FailoverRecord[] = [];
  const serviceProbes: Cluster['serviceProbes'] = [];

  // What the dashboard's database keeps of the group, so that a restarted coordinator takes up where it was.
  const saved = { primaryNodeId: null as string | null, epoch: 0, reservedEpoch: 0 };
  const newCoordinator = () =>
    new GroupCoordinator(
      {
        ...GROUP_DEFAULTS,
        id: GROUP_ID,
        name: 'notes',
        ...saved,
        groupKey,
        maintenance: false,
        agentReports: options.agentReports ?? true,
        ...options.group,
        members: nodes.map((n, i) => ({
          nodeId: n.nodeId,
          name: n.name,
          agentUrl: `http://127.0.0.1:${n.linkPort}`,
          secret: n.secret,
          priority: nodes.length - i,
          service: base.serviceAddress(n),
        })),
      },
      {
        setEndpoint: async (target) => endpoint.setTarget(target, { cutExisting: true }),
        probeEndpoint: async () => {
          try {
            const res = await fetch(`${endpointUrl}/health`, { signal: AbortSignal.timeout(500) });
            await res.arrayBuffer();
            return res.ok;
          } catch {
            return false;
          }
        },
        reserveEpoch: (epoch) => {
          saved.reservedEpoch = epoch;
        },
        savePrimary: (primaryNodeId, epoch) => {
          Object.assign(saved, { primaryNodeId, epoch });
        },
        onFailover: (r) => {
          records.push(r);
          if (process.env.CLUSTER_DEBUG) console.log('failover record', JSON.stringify(r, null, 1));
        },
        onStep: (s) => process.env.CLUSTER_DEBUG && console.log('step', s.step),
        onProbe: (id, v) => {
          if (v.serviceProbe) serviceProbes.push({ nodeId: id, ok: v.serviceProbe.ok, at: v.serviceProbe.at });
          if (process.env.CLUSTER_DEBUG === '2') console.log('probe', id, v.agentUp, v.serviceUp, v.lastError);
        },
      },
    );
  const coordinator = newCoordinator();
  coordinator.start();

  const cluster: Cluster = {
    base,
    dir,
    repository,
    nodeRepository: (node) => tenantLocation(repository, { kind: 'node', nodeId: node.nodeId }),
    groupRepository: tenantLocation(repository, { kind: 'group', groupId: GROUP_ID }),
    storageUrl: base.storageUrl,
    endpoint,
    endpointUrl,
    nodes,
    coordinator,
    records,
    serviceProbes,
    startAgent,
    restartCoordinator() {
      cluster.coordinator = newCoordinator();
      cluster.coordinator.start();
    },
    async stop() {
      await cluster.coordinator.stop();
      await base.stop();
      await endpoint.stop();
    },
  };
  return cluster;
}

export async function prepareCluster(
  options: Pick<ClusterOptions, 'nodes' | 'runPlanCommands' | 'restoreOtherSources'>,
  extraConfig: (node: TestNode) => Record<string, unknown>,
): Promise<ClusterBase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-cluster-'));
  const repository = path.join(dir, 'repository');
  await initRepository(repository, PASSWORD, { kdf: TEST_KDF });
  const groupKey = randomBytes(32).toString('hex');

  const nodes: TestNode[] = [];
  const serviceLinks = new Map<string, number>();
  for (let i = 0; i < (options.nodes ?? 2); i++) {
    const name = `node-${String.fromCharCode(97 + i)}`;
    const nodeId = `n${i + 1}-${randomBytes(4).toString('hex')}`;
    const secret = newSecret();
    const agentPort = await freePort();
    const link = new StableEndpoint({ holdMs: 200 });
    const linkPort = await link.start();
    link.setTarget({ host: '127.0.0.1', port: agentPort });
    const servicePort = await freePort();
    const serviceLink = new StableEndpoint({ holdMs: 50 });
    const serviceLinkPort = await serviceLink.start();
    serviceLink.setTarget({ host: '127.0.0.1', port: servicePort });
    serviceLinks.set(nodeId, serviceLinkPort);
    nodes.push({
      nodeId,
      name,
      secret,
      agentPort,
      servicePort,
      link,
      linkPort,
      serviceLink,
      configFile: path.join(dir, `${name}.json`),
      stateDir: path.join(dir, name, 'agent'),
      process: null,
      direct: new AgentClient(`http://127.0.0.1:${agentPort}`, { nodeId, secret }),
    });
  }

  // Each node's repository and the group's, each opened by the control plane's passphrase and by its members' own.
  const opened = new Map<string, Repository>();
  const makeTenant = async (tenant: Tenant, memberPassword: string) => {
    const repo = await initRepository(tenantLocation(repository, tenant), PASSWORD, { kdf: TEST_KDF });
    await writeKeyFile(repo.storage, repo.key, memberPassword, TEST_KDF);
    opened.set(tenantPath(tenant), repo);
  };
  for (const node of nodes)
    await makeTenant({ kind: 'node', nodeId: node.nodeId }, nodeRepositoryPassword(node.secret));
  await makeTenant({ kind: 'group', groupId: GROUP_ID }, groupRepositoryPassword(groupKey));
  const accesses = new Map<string, AppendOnlyAccess>();
  const secrets = new Map(nodes.map((n) => [n.nodeId, n.secret]));
  const storage = new StorageService(
    async (nodeId, tenant) => {
      if (tenant.kind === 'node' ? tenant.nodeId !== nodeId : tenant.groupId !== GROUP_ID)
        return { refused: 'not this node’s repository or group' };
      const name = tenantPath(tenant);
      let access = accesses.get(name);
      if (!access) {
        const repo = opened.get(name)!;
        access = new AppendOnlyAccess(repo.storage, { key: async () => repo.key.encryption });
        accesses.set(name, access);
      }
      return access;
    },
    (id) => secrets.get(id) ?? null,
  );
  const storageServer = storageHttpServer(async () => storage);
  await new Promise<void>((resolve) => storageServer.listen(0, '127.0.0.1', resolve));
  const storagePort = (storageServer.address() as net.AddressInfo).port;
  const controlPlane = `http://127.0.0.1:${storagePort}`;

  for (const node of nodes) {
    const dataDir = path.join(dir, node.name, 'service');
    const config = {
      node: node.name,
      nodeId: node.nodeId,
      secret: node.secret,
      listen: `127.0.0.1:${node.agentPort}`,
      controlPlane,
      stateDir: node.stateDir,
      runPlanCommands: options.runPlanCommands?.includes(node.name) ?? false,
      restoreOtherSources: options.restoreOtherSources?.includes(node.name) ?? false,
      service: {
        command: [process.execPath, NOTES_SERVICE],
        env: { PORT: '{port}', NOTES_DB: '{dataDir}/notes.db' },
        port: node.servicePort,
        health: { httpPath: '/health' },
        dataDir,
        sqlite: ['notes.db'],
        paths: ['attachments'],
      },
      ...extraConfig(node),
    };
    writeFileSync(node.configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    chmodSync(node.configFile, 0o600);
  }

  async function startAgent(node: TestNode): Promise<void> {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'dist', 'lifeline.cjs'), 'agent', '--config', node.configFile, '--json'],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LIFELINE_EXIT_WITH_PARENT: String(process.pid) } },
    );
    node.process = child;
    const started = new Promise<void>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { type: string; message?: string };
        if (msg.type === 'result') resolve();
        if (msg.type === 'error') reject(new Error(msg.message));
      });
      child.once('exit', (code) => reject(new Error(`agent ${node.name} exited with ${code}`)));
    });
    await waitFor(`agent ${node.name} to start`, started, 20_000);
  }
  return {
    dir,
    repository,
    groupId: GROUP_ID,
    groupKey,
    nodes,
    serviceAddress: (node) => ({ host: '127.0.0.1', port: serviceLinks.get(node.nodeId)! }),
    storageUrl: controlPlane,
    async storageDown() {
      const closed = new Promise((r) => storageServer.close(r));
      storageServer.closeAllConnections();
      await closed;
    },
    async storageUp() {
      await new Promise<void>((resolve) => storageServer.listen(storagePort, '127.0.0.1', resolve));
    },
    startAgent,
    async stop() {
      await Promise.all(
        nodes.map(async (n) => {
          if (n.process && n.process.exitCode === null && n.process.signalCode === null) {
            n.process.kill('SIGTERM');
            await waitFor(`agent ${n.name} to exit`, exitOf(n.process), 20_000);
          }
          await n.link.stop();
          await n.serviceLink.stop();
        }),
      );
      if (storageServer.listening) await new Promise((r) => storageServer.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The control plane's storage API on a plain HTTP server, as the dashboard's route handler serves it. */
export function storageHttpServer(service: () => Promise<StorageService>): http.Server {
  return http.createServer(async (req, res) => {
    try {
      const reply = await (await service()).handle(
        req.method ?? 'GET',
        req.url ?? '/',
        { get: (n) => (req.headers[n] as string | undefined) ?? null },
        req,
      );
      res.writeHead(reply.status, reply.headers).end(reply.status === 204 ? undefined : reply.body);
    } catch {
      // The request could not be read (a node killed mid-upload aborts it): nothing was stored, nobody to answer.
      res.destroy();
    }
  });
}

export async function serviceHealthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(300) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
