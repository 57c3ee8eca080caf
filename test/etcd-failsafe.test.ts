// 13.4 on a real three-member etcd: with the quorum gone for everyone, the primary serves on while every other
// member says it is not primary (Patroni's failsafe), and nothing fails over when etcd is back; a primary cut off
// from etcd alone (a proxy that stops forwarding) gets a "no" from nobody once the standby holds the key, and the
// two services never acknowledge writes in overlapping intervals, as a client writing to both ports sees it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StableEndpoint } from '@/lib/engine/failover/stable-endpoint';
import { killMember, restartMember, startEtcd, stopEtcd } from '@/scripts/etcd.mjs';

import { tempDir } from './helpers';
import type { TestNode } from './support/cluster';
import { startEtcdCluster } from './support/etcd-cluster';
import { write } from './support/etcd-group';
import { pace, waitFor } from './support/wait';

/** A write every WRITE_EVERY_MS at most: two services serving at once would both acknowledge writes for seconds (a
 *  lease's time), which writes this close apart see; back to back, the writers spent most of this file's CPU. */
const WRITE_EVERY_MS = 10;

/** Writes to `node`'s service port directly, one after another, and notes when each was acknowledged (on this
 *  process's monotonic clock). */
function writer(node: TestNode, firstSeq: number) {
  const state = { acks: [] as number[], stop: false };
  const done = (async () => {
    let seq = firstSeq;
    while (!state.stop) {
      const sent = performance.now();
      if (await write(`http://127.0.0.1:${node.servicePort}`, seq++)) state.acks.push(performance.now());
      // A service that is down refuses at once: the load is spaced out, not spun.
      await pace(Math.max(0, sent + WRITE_EVERY_MS - performance.now()));
    }
  })();
  return {
    acks: state.acks,
    async stop() {
      state.stop = true;
      await done;
    },
  };
}

/** A TTL of 6 s: a renewal is overdue 2.25 s after the last, and the service's deadline 4.5 s after it, which
 *  leaves a loaded machine time to ask and hear the other member in between (with 3 s: 0.75 s). */
const SETTINGS = { ttlSeconds: 6, renewMs: 2000 };

describe('13.4 the failsafe through the loss of etcd', () => {
  let server: Awaited<ReturnType<typeof startEtcd>>;
  beforeAll(async () => {
    server = await startEtcd(tempDir('etcd-failsafe'), 3);
  }, 90_000);
  afterAll(() => {
    if (server) stopEtcd(server.dir);
  });

  it('13.4 with etcd’s quorum lost, the primary serves on while every member says it is not primary; when etcd is back, nothing fails over', async () => {
    const cluster = await startEtcdCluster({ etcd: server.endpoints, settings: SETTINGS });
    const down = new Set<string>();
    try {
      const first = await waitFor('a member to take the leader key', () => cluster.leader(), 20_000);
      const primary = cluster.nodeById(first.holder);
      const standby = cluster.nodes.find((n) => n !== primary)!;
      const { pid } = await waitFor(
        'the primary to serve',
        async () => {
          const st = await primary.direct.status();
          return st.service.state === 'running' && st.service;
        },
        20_000,
      );
      // The standby vouches for the primary only once it has read its group from etcd (the group key that signs the
      // failsafe question comes with it): on a loaded machine its first read may come after the primary serves.
      await waitFor('the standby to follow the group', () => cluster.allMayTakeOver(first.holder), 30_000);
      for (const m of ['m1', 'm2']) {
        killMember(server, m);
        down.add(m);
      }
      const lostAt = Date.now();
      await waitFor('the primary to serve in failsafe', async () => (await primary.direct.status()).failsafe, 20_000);
      // Well past two TTLs without etcd, it still acknowledges writes; the standby serves nothing.
      const w = writer(primary, 1);
      await waitFor(
        'writes past two TTLs without etcd',
        () => Date.now() - lostAt > 2 * SETTINGS.ttlSeconds * 1000 && w.acks.length > 20,
        30_000,
      );
      await w.stop();
      const s = await standby.direct.status();
      expect(s.service.state).not.toBe('running');
      expect((await primary.direct.status()).service.pid).toBe(pid);
      for (const m of down) {
        await restartMember(server, m);
        down.delete(m);
      }
      await waitFor('the primary to renew again', async () => !(await primary.direct.status()).failsafe, 30_000);
      expect(await cluster.leader()).toEqual(first);
      expect((await primary.direct.status()).service.pid).toBe(pid);
    } finally {
      // The next test needs etcd whole, whatever happened here.
      for (const m of down) await restartMember(server, m);
      await cluster.stop();
    }
  }, 120_000);

  it('13.4 a primary cut off from etcd alone stops before the standby that took the key serves: no two services acknowledge writes at once', async () => {
    // Each agent reaches etcd through a link of its own (nodes are named node-a, node-b), which the test can cut.
    const etcd = new URL(server.endpoints[0]);
    const target = { host: etcd.hostname, port: Number(etcd.port) };
    const links = new Map<string, { link: StableEndpoint; port: number }>();
    for (const name of ['node-a', 'node-b']) {
      const link = new StableEndpoint({ holdMs: 60_000 });
      const port = await link.start();
      link.setTarget(target);
      links.set(name, { link, port });
    }
    const cluster = await startEtcdCluster({
      etcd: server.endpoints,
      settings: SETTINGS,
      etcdFor: (node) => [`http://127.0.0.1:${links.get(node.name)!.port}`],
    });
    try {
      const first = await waitFor('a member to take the leader key', () => cluster.leader(), 20_000);
      const primary = cluster.nodeById(first.holder);
      const standby = cluster.nodes.find((n) => n !== primary)!;
      const [old, next] = [writer(primary, 1), writer(standby, 1_000_000)];
      await waitFor('writes to the primary', () => old.acks.length >= 10, 20_000);
      links.get(primary.name)!.link.setTarget(null, { cutExisting: true });
      await waitFor(
        'the standby to take the key',
        async () => (await cluster.leader())?.holder === standby.nodeId,
        30_000,
      );
      const taken = (await cluster.leader())!;
      await waitFor('writes acknowledged by the standby', () => next.acks.length >= 10, 30_000);
      // It keeps the key and its service through the wait before serving (it promised the old primary) and after:
      // a primary still starting is not one whose service is down.
      const servingFrom = performance.now();
      // Its service answers writes a moment before its agent has seen it healthy: the pid once the agent says so.
      const { pid } = await waitFor(
        'the new primary’s agent to say its service runs',
        async () => {
          const { service } = await standby.direct.status();
          return service.state === 'running' && service.pid !== null && service;
        },
        10_000,
      );
      await waitFor(
        'two TTLs of the new primary serving',
        () => performance.now() - servingFrom > 2 * SETTINGS.ttlSeconds * 1000,
        4 * SETTINGS.ttlSeconds * 1000,
      );
      expect(await cluster.leader()).toEqual(taken);
      expect((await standby.direct.status()).service).toMatchObject({ state: 'running', pid });
      await Promise.all([old.stop(), next.stop()]);
      // Every write the old primary acknowledged came before the first the new one acknowledged.
      expect(old.acks.length).toBeGreaterThan(0);
      expect(Math.max(...old.acks)).toBeLessThan(Math.min(...next.acks));
      // Back in reach of etcd, the old primary learns it lost the key and stays a standby.
      links.get(primary.name)!.link.setTarget(target);
      await waitFor(
        'the old primary to be a standby',
        async () => (await primary.direct.status()).role === 'standby',
        30_000,
      );
      expect((await primary.direct.status()).service.state).not.toBe('running');
    } finally {
      await cluster.stop();
      for (const { link } of links.values()) await link.stop();
    }
  }, 120_000);
});
