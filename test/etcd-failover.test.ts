// 13.1, 13.2 and 13.3 with every part real: agents (the CLI, each with its watchdog) guarding the notes service,
// coordinating on a real etcd with no dashboard and no coordinator, a stable endpoint process following the
// leader key, and the data shipped through the storage API. Faults are real: a SIGKILL of the service, a SIGSTOP
// or SIGKILL of the primary's agent, an endpoint cut off from etcd by a TCP proxy that stops forwarding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAINTENANCE_KEY } from '@/lib/engine/coordination/group-keys';
import { lastPrimaryPosition } from '@/lib/engine/coordination/leader-loop';
import { StableEndpoint } from '@/lib/engine/failover/stable-endpoint';
import type { AgentStatus } from '@/lib/engine/nodes/agent-protocol';
import { startEtcd, stopEtcd } from '@/scripts/etcd.mjs';

import { tempDir } from './helpers';
import { serviceHealthy } from './support/cluster';
import { startEtcdCluster } from './support/etcd-cluster';
import {
  expectTakeoverAfterServiceGone,
  holds,
  primaryCheck,
  runningGroup,
  through,
  write,
  takesKey,
} from './support/etcd-group';
import { waitFor } from './support/wait';

describe('13.1 and 13.2 failover on etcd, with no dashboard', () => {
  let server: Awaited<ReturnType<typeof startEtcd>>;
  beforeAll(async () => {
    server = await startEtcd(tempDir('etcd-failover'), 1);
  }, 60_000);
  afterAll(() => {
    if (server) stopEtcd(server.dir);
  });

  it('13.1 the primary’s service crashes: its agent gives up the key, the standby takes it with a higher token and serves the data through the endpoint; the old service stays down', async () => {
    const { cluster, endpointUrl, primary, standby, first } = await runningGroup(server.endpoints);
    try {
      // Roles are etcd's: the control plane's old orders are refused.
      await expect(standby.direct.promote(99, 6000)).rejects.toThrow(/follows its group's leader key in etcd/);
      // The open GET /primary, for load balancers, says who serves, and nothing else.
      expect(await primaryCheck(primary)).toEqual({ status: 200, body: '' });
      expect(await primaryCheck(standby)).toEqual({ status: 503, body: '' });
      expect(await primaryCheck(primary, 'POST')).toEqual({ status: 405, body: '' });
      expect((await primaryCheck(primary, 'GET', '/primary/../v1/status')).status).toBe(401);
      const before: AgentStatus = await primary.direct.status();
      process.kill(before.service.pid!, 'SIGKILL');
      const next = await waitFor(
        'the standby to hold the key',
        async () => {
          const l = await cluster.leader();
          return l?.holder === standby.nodeId && l;
        },
        20_000,
      );
      expect(BigInt(next.token)).toBeGreaterThan(BigInt(first.token));
      await waitFor('the endpoint to serve the write again', () => holds(endpointUrl, 1), 20_000);
      expect(await write(endpointUrl, 2)).toBe(true);
      const old = await primary.direct.status();
      expect(old.role).toBe('standby');
      expect(old.service.state).not.toBe('running');
      expect(await serviceHealthy(primary.servicePort)).toBe(false);
      expect((await standby.direct.status()).epoch).toBe(Number(next.token));
      await waitFor(
        'GET /primary to name the standby',
        async () => (await primaryCheck(standby)).status === 200,
        10_000,
      );
      expect((await primaryCheck(primary)).status).toBe(503);
    } finally {
      await cluster.stop();
    }
  }, 90_000);

  it('13.6 with an endpoint beside every agent, any of them serves the primary; after a crash, each routes to the new one', async () => {
    const cluster = await startEtcdCluster({ etcd: server.endpoints, endpointsBesideAgents: true });
    try {
      const urls = [...cluster.agentEndpoints.values()];
      expect(urls).toHaveLength(2);
      const first = await waitFor('a member to take the leader key', () => cluster.leader(), 20_000);
      const primary = cluster.nodeById(first.holder);
      const standby = cluster.nodes.find((n) => n !== primary)!;
      for (const [i, url] of urls.entries())
        await waitFor(`a write through endpoint ${i + 1}`, () => write(url, i + 1), 20_000);
      const written = Date.now();
      await waitFor(
        'the standby to apply the writes',
        async () => ((await standby.direct.status()).data.dataTime ?? 0) > written,
        20_000,
      );
      for (const node of cluster.nodes)
        expect((await node.direct.status()).endpoint).toEqual({
          address: cluster.agentEndpoints.get(node.name)!.replace('http://', ''),
          routesTo: primary.nodeId,
        });
      process.kill((await primary.direct.status()).service.pid!, 'SIGKILL');
      await takesKey(cluster, standby);
      // Each endpoint, the one beside the old primary too, serves the data from the new one.
      for (const [i, url] of urls.entries())
        await waitFor(
          `endpoint ${i + 1} to serve the new primary`,
          async () => (await holds(url, 1)) && (await holds(url, 2)),
          20_000,
        );
      for (const node of cluster.nodes) expect((await node.direct.status()).endpoint?.routesTo).toBe(standby.nodeId);
    } finally {
      await cluster.stop();
    }
  }, 90_000);

  it('13.2 the primary’s agent is stopped (SIGSTOP) past the TTL: its watchdog kills the service before a standby can take the key; resumed, the agent stays a standby', async () => {
    const { cluster, endpointUrl, primary, standby } = await runningGroup(server.endpoints);
    try {
      await expectTakeoverAfterServiceGone(cluster, endpointUrl, primary, standby, 'SIGSTOP');
      primary.process!.kill('SIGCONT');
      await waitFor(
        'the resumed agent to say it is a standby',
        async () => (await primary.direct.status()).role === 'standby',
        20_000,
      );
      const old = await primary.direct.status();
      expect(old.service.state).not.toBe('running');
      expect(await serviceHealthy(primary.servicePort)).toBe(false);
      expect((await cluster.leader())?.holder).toBe(standby.nodeId);
    } finally {
      primary.process?.kill('SIGCONT');
      await cluster.stop();
    }
  }, 90_000);

  it('13.2 the primary’s agent is killed: the watchdog outlives it and kills the service before a standby can take the key', async () => {
    const { cluster, endpointUrl, primary, standby } = await runningGroup(server.endpoints);
    try {
      await expectTakeoverAfterServiceGone(cluster, endpointUrl, primary, standby, 'SIGKILL');
    } finally {
      await cluster.stop();
    }
  }, 90_000);

  it('13.2 an endpoint that cannot read etcd stops routing, and routes again once it can', async () => {
    const cluster = await startEtcdCluster({ etcd: server.endpoints });
    const cut = new StableEndpoint({ holdMs: 60_000 });
    try {
      const port = await cut.start();
      const etcd = new URL(server.endpoints[0]);
      cut.setTarget({ host: etcd.hostname, port: Number(etcd.port) });
      const endpoint = await cluster.startEndpoint([`http://127.0.0.1:${port}`]);
      await waitFor('a member to take the leader key', () => cluster.leader(), 20_000);
      await waitFor('the endpoint to serve', async () => (await through(endpoint.url, '/health'))?.ok, 20_000);
      cut.setTarget(null, { cutExisting: true });
      await waitFor(
        'the endpoint to stop routing',
        () => endpoint.routes.at(-1)?.why.includes('etcd could not be read in time'),
        20_000,
      );
      expect(await through(endpoint.url, '/health')).toBeNull();
      // The primary itself never lost etcd: it serves on, and the endpoint routes to it again.
      cut.setTarget({ host: etcd.hostname, port: Number(etcd.port) });
      await waitFor('the endpoint to serve again', async () => (await through(endpoint.url, '/health'))?.ok, 20_000);
    } finally {
      await cut.stop();
      await cluster.stop();
    }
  }, 90_000);

  it('13.3 maintenance is an intention: while it is on, a crash of the primary’s service fails nothing over; once it is off, the standby takes over', async () => {
    const { cluster, primary, standby } = await runningGroup(server.endpoints);
    try {
      const first = (await cluster.leader())!;
      /** Waits until the primary has published its position twice after `since` (two ticks of its loop). */
      const twoTicksAfter = async (what: string, since: number) => {
        let seen = 0;
        let last = since;
        await waitFor(
          what,
          async () => {
            const at = (await lastPrimaryPosition(cluster.store))?.at ?? 0;
            if (at > last) {
              seen++;
              last = at;
            }
            return seen >= 2;
          },
          20_000,
        );
      };
      await cluster.store.put(MAINTENANCE_KEY, JSON.stringify({ on: true, at: Date.now() }));
      await twoTicksAfter('the primary to read the maintenance', Date.now());
      process.kill((await primary.direct.status()).service.pid!, 'SIGKILL');
      const crashedAt = Date.now();
      await waitFor(
        'the primary to see its service gone',
        async () => (await primary.direct.status()).service.state === 'exited',
        10_000,
      );
      await twoTicksAfter('two renewals after the crash', crashedAt);
      expect(await cluster.leader()).toEqual(first);
      expect((await standby.direct.status()).service.state).not.toBe('running');
      await cluster.store.put(MAINTENANCE_KEY, JSON.stringify({ on: false, at: Date.now() }));
      await takesKey(cluster, standby);
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
