// The long-running commands: `lifeline agent` (on each node), `lifeline endpoint` (the stable service address) and
// `lifeline store` (the embedded coordination store, for one machine without etcd).
// Each prints one "ready" result line once it listens, then runs until SIGINT or SIGTERM.
import { promises as fs } from 'node:fs';

import { Agent } from '../../lib/engine/nodes/agent';
import { loadAgentConfig } from '../../lib/engine/nodes/agent-config';
import { createAgentServer } from '../../lib/engine/nodes/agent-server';
import { EngineError } from '../../lib/engine/errors';
import { readRoute, type Route } from '../../lib/engine/failover/route-file';
import { StableEndpoint } from '../../lib/engine/failover/stable-endpoint';
import { DEFAULT_ETCD_ROOT, groupPrefix } from '../../lib/engine/coordination/group-keys';
import { FollowingEndpoint } from '../../lib/engine/coordination/following-endpoint';
import { EmbeddedStore } from '../../lib/engine/coordination/embedded-store';
import { EXIT } from './commands';
import type { Output } from './output';

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;
export type Daemon = (values: Values, out: Output, signal: AbortSignal) => Promise<number>;

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^([\w.-]+):(\d{1,5})$/.exec(text);
  if (!m) throw new EngineError('invalid-argument', `${flag} takes HOST:PORT, not "${text}"`);
  return { host: m[1], port: Number(m[2]) };
}

const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve())));

export const agent: Daemon = async (v, out, signal) => {
  if (typeof v.config !== 'string')
    throw new EngineError('invalid-argument', 'give the agent its config: lifeline agent --config FILE');
  const config = loadAgentConfig(v.config);
  const listen = hostPort(config.listen, 'listen');
  const node = new Agent(config);
  await node.start();
  const server = createAgentServer(node);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new EngineError('io', `the agent cannot listen on ${config.listen}: ${err.message}`)),
    );
    server.listen(listen.port, listen.host, resolve);
  });
  out.result(
    'agent',
    { node: config.node, listen: config.listen, pid: process.pid },
    `agent of ${config.node} listening on ${config.listen}`,
  );
  await untilAborted(signal);
  server.close();
  server.closeAllConnections();
  // Stopping the agent stops its service too: a service nobody guards could outlive its lease.
  await node.stop();
  return EXIT.ok;
};

const ENDPOINT_USAGE =
  'usage: lifeline endpoint --listen HOST:PORT (--route FILE | --etcd URL[,URL...] --group ID [--etcd-root /lifeline/] [--etcd-user USER --etcd-password-file FILE])';

export const endpoint: Daemon = async (v, out, signal) => {
  if (typeof v.listen !== 'string' || (typeof v.route === 'string') === (typeof v.etcd === 'string'))
    throw new EngineError('invalid-argument', ENDPOINT_USAGE);
  if (typeof v.etcd === 'string') return endpointOnEtcd(v, out, signal);
  if (typeof v.route !== 'string') throw new EngineError('invalid-argument', ENDPOINT_USAGE);
  const listen = hostPort(v.listen, '--listen');
  const routeFile = v.route;
  const proxy = new StableEndpoint({ host: listen.host, port: listen.port, holdMs: 30_000 });
  const port = await proxy.start().catch((err: Error) => {
    throw new EngineError('io', `the endpoint cannot listen on ${v.listen}: ${err.message}`);
  });
  let current: Route | null = null;
  let lastStamp = '';
  // The control plane writes the route file atomically; a stat every 50 ms is cheap and survives renames.
  const poll = async () => {
    const st = await fs.stat(routeFile).catch(() => null);
    const stamp = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'none';
    if (stamp === lastStamp) return;
    lastStamp = stamp;
    const route = await readRoute(routeFile);
    if (route && route.version !== current?.version) {
      // A new route to the same primary keeps its connections; one to another primary cuts them (fencing).
      const same = current?.target?.host === route.target?.host && current?.target?.port === route.target?.port;
      current = route;
      proxy.setTarget(route.target, { cutExisting: !same });
      const to = route.target ? `${route.target.host}:${route.target.port}` : null;
      out.notice(
        { type: 'route', version: route.version, target: to, kept: same },
        to ? `routing to ${to}${same ? ' (connections kept)' : ''}` : 'holding new connections: no primary',
      );
    }
  };
  await poll();
  const timer = setInterval(() => void poll(), 50);
  out.result(
    'endpoint',
    { listen: `${listen.host}:${port}`, pid: process.pid },
    `stable endpoint on ${listen.host}:${port}, routed by ${routeFile}`,
  );
  await untilAborted(signal);
  clearInterval(timer);
  await proxy.stop();
  return EXIT.ok;
};

/** The endpoint following its group's leader key on etcd (leader-follower.ts) instead of the dashboard's route file. */
async function endpointOnEtcd(v: Values, out: Output, signal: AbortSignal): Promise<number> {
  const listen = hostPort(v.listen as string, '--listen');
  if (typeof v.group !== 'string' || !/^[\w-]{1,64}$/.test(v.group))
    throw new EngineError('invalid-argument', `--group takes the group's id. ${ENDPOINT_USAGE}`);
  const endpoints = (v.etcd as string).split(',').map((u) => u.trim());
  for (const url of endpoints)
    if (!URL.canParse(url)) throw new EngineError('invalid-argument', `--etcd takes URLs, not "${url}"`);
  const root = typeof v['etcd-root'] === 'string' ? v['etcd-root'] : DEFAULT_ETCD_ROOT;
  if (!root.startsWith('/') || !root.endsWith('/'))
    throw new EngineError('invalid-argument', '--etcd-root starts and ends with /');
  let auth: { username: string; password: string } | undefined;
  if (typeof v['etcd-user'] === 'string') {
    const file = v['etcd-password-file'];
    if (typeof file !== 'string')
      throw new EngineError('invalid-argument', '--etcd-user needs --etcd-password-file FILE');
    auth = { username: v['etcd-user'], password: (await fs.readFile(file, 'utf8')).trim() };
  }
  const endpoint = new FollowingEndpoint(listen, (route, why) =>
    out.notice(
      { type: 'route', holder: route?.holder ?? null, token: route?.token ?? null, why },
      route ? `routing to ${route.holder} (token ${route.token})` : `not routing: ${why}`,
    ),
  );
  const port = await endpoint.start().catch((err: Error) => {
    throw new EngineError('io', `the endpoint cannot listen on ${v.listen}: ${err.message}`);
  });
  endpoint.follow({ endpoints, prefix: groupPrefix(root, v.group), ...(auth ? { auth } : {}) });
  out.result(
    'endpoint',
    { listen: `${listen.host}:${port}`, pid: process.pid },
    `stable endpoint on ${listen.host}:${port}, following group ${v.group}'s leader key on etcd`,
  );
  await untilAborted(signal);
  await endpoint.stop();
  return EXIT.ok;
}

/** The embedded coordination store (embedded-store.ts): etcd's API for one machine, its state in --dir. */
export const store: Daemon = async (v, out, signal) => {
  if (typeof v.dir !== 'string' || typeof v.listen !== 'string')
    throw new EngineError('invalid-argument', 'usage: lifeline store --dir DIR --listen HOST:PORT');
  const listen = hostPort(v.listen, '--listen');
  // It speaks plain gRPC: on a machine's own loopback, not on a network.
  if (!['127.0.0.1', 'localhost', '::1'].includes(listen.host))
    out.notice(
      { type: 'warning', message: 'listening beyond loopback' },
      `warning: the store listens on ${listen.host} without TLS: anyone who reaches it sees passwords and tokens in transit; keep it on 127.0.0.1`,
    );
  // Its files hold password hashes: the owner's alone.
  process.umask(0o077);
  const server = new EmbeddedStore({ dir: v.dir, host: listen.host, port: listen.port });
  const port = await server.start();
  out.result(
    'store',
    { listen: `${listen.host}:${port}`, url: `http://${listen.host}:${port}`, pid: process.pid },
    `coordination store on ${listen.host}:${port} (etcd's API, one machine), its state in ${v.dir}`,
  );
  await untilAborted(signal);
  await server.close();
  return EXIT.ok;
};
