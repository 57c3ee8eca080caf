// 13.1 and 13.3 on etcd with every part real (agents with their watchdogs, the notes service, the endpoint
// process, the storage API): a node that served an older epoch catching up before it may serve, a running group
// moved from the dashboard's coordinator with no failover, a switchover as an intention that loses no
// acknowledged write, and the lag guard with ships far apart.
import { readdirSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { EtcdStore } from '@/lib/engine/coordination/etcd-store';
import {
  historyKeyName,
  intentResultName,
  LEADER_KEY,
  SWITCHOVER_INTENT_KEY,
} from '@/lib/engine/coordination/group-keys';
import { startEtcd, stopEtcd } from '@/scripts/etcd.mjs';

import { tempDir } from './helpers';
import { serviceHealthy, startCluster } from './support/cluster';
import {
  type EtcdEndpoint,
  spawnEtcdEndpoint,
  startEtcdCluster,
  stopEndpoints,
  testRoot,
  writeGroup,
} from './support/etcd-cluster';
import { expectTakeoverAfterServiceGone, holds, runningGroup, takesKey, write } from './support/etcd-group';
import { waitFor } from './support/wait';

describe('13.1 and 13.3 handing over on etcd', () => {
  let server: Awaited<ReturnType<typeof startEtcd>>;
  beforeAll(async () => {
    server = await startEtcd(tempDir('etcd-handover'), 1);
  }, 60_000);
  afterAll(() => {
    if (server) stopEtcd(server.dir);
  });

  it('13.1 a node that served an older epoch comes back as a standby: it applies the newer primary’s data before it can take over, and keeps its own aside', async () => {
    const { cluster, endpointUrl, primary, standby } = await runningGroup(server.endpoints);
    try {
      await expectTakeoverAfterServiceGone(cluster, endpointUrl, primary, standby, 'SIGKILL');
      await waitFor('a write to the new primary', () => write(endpointUrl, 2), 20_000);
      const written = Date.now();
      // The old primary's agent starts again from its state, which still says it was primary.
      await cluster.startAgent(primary);
      await waitFor(
        'the old primary to apply data from after the new write',
        async () => {
          const s = await primary.direct.status();
          return s.role === 'standby' && (s.data.dataTime ?? 0) > written;
        },
        30_000,
      );
      expect(readdirSync(path.join(primary.stateDir, 'replaced'))).toHaveLength(1);
      // 13.7: the set is kept until an admin deletes it, with its size; a name that is not one is refused.
      const [kept] = (await primary.direct.status()).data.kept;
      expect(kept.bytes).toBeGreaterThan(0);
      for (const bad of ['../agent-state.json', '.', 'no-such-set'])
        await expect(primary.direct.deleteKept(bad)).rejects.toThrow(/no data kept under the name/);
      expect(readdirSync(path.join(primary.stateDir, 'replaced'))).toEqual([kept.name]);
      // The new primary's service fails: the old one takes over with every write.
      process.kill((await standby.direct.status()).service.pid!, 'SIGKILL');
      await waitFor(
        'the old primary to hold the key again',
        async () => (await cluster.leader())?.holder === primary.nodeId,
        20_000,
      );
      await waitFor('the endpoint to serve write 2', () => holds(endpointUrl, 2), 20_000);
      expect(await holds(endpointUrl, 1)).toBe(true);
      expect((await primary.direct.deleteKept(kept.name)).data.kept).toEqual([]);
      expect(readdirSync(path.join(primary.stateDir, 'replaced'))).toEqual([]);
    } finally {
      await cluster.stop();
    }
  }, 120_000);

  it('13.3 a running group moves from the dashboard’s coordinator to etcd without a failover: the primary’s service keeps its process and acknowledges every write through the move; a crash then fails over on etcd', async () => {
    const cluster = await startCluster();
    const root = testRoot();
    let store: EtcdStore | null = null;
    const endpoints: EtcdEndpoint[] = [];
    const load = { seq: 0, acked: 0, failed: [] as number[], stop: false };
    try {
      const primary = await waitFor(
        'the coordinator to start a primary',
        async () => {
          for (const n of cluster.nodes) if ((await n.direct.status()).service.state === 'running') return n;
          return null;
        },
        30_000,
      );
      const standby = cluster.nodes.find((n) => n !== primary)!;
      const before = await primary.direct.status();
      const running = (async () => {
        while (!load.stop) {
          const seq = ++load.seq;
          if (await write(cluster.endpointUrl, seq)) load.acked++;
          else load.failed.push(seq);
        }
      })();
      await waitFor('writes through the endpoint', () => load.acked >= 10, 20_000);
      ({ store } = await writeGroup(server.endpoints, root, cluster.base, { epochBase: before.epoch }));
      const etcd = { endpoints: server.endpoints, root };
      // Hostile or broken orders change nothing: a bad address, a root outside the rules, a user with no password.
      for (const bad of [
        { endpoints: ['not a url'], root },
        { endpoints: server.endpoints, root: 'no-slashes' },
        { endpoints: server.endpoints, root, username: 'node' },
      ])
        await expect(primary.direct.coordinateOnEtcd(bad)).rejects.toThrow(/Invalid|expected|go together/);
      expect((await primary.direct.status()).coordination).toBe('dashboard');
      const moved = await primary.direct.coordinateOnEtcd(etcd);
      // As the dashboard moves a group (lib/control/etcd.ts): the standbys once the primary holds the key.
      const leader = await waitFor('the primary to hold the leader key', () => store!.leader(LEADER_KEY), 20_000);
      expect(leader.holder).toBe(primary.nodeId);
      await standby.direct.coordinateOnEtcd(etcd);
      await cluster.coordinator.stop();
      const switchedAt = Date.now();
      const ackedThen = load.acked;
      // Past two leases' worth of time on etcd alone, it serves on: renewals, not the old lease, keep it up.
      await waitFor(
        'writes to go on past two TTLs after the move',
        () => Date.now() - switchedAt > 2 * 3000 && load.acked > ackedThen + 20,
        30_000,
      );
      load.stop = true;
      await running;
      expect(load.failed).toEqual([]);
      const after = await primary.direct.status();
      expect(after.service.pid).toBe(before.service.pid);
      expect(after.coordination).toBe('etcd');
      expect(moved.service.pid).toBe(before.service.pid);
      expect(after.epoch).toBe(before.epoch + Number(leader.token));
      // On etcd now: the old orders are refused, and a crash fails over with no coordinator.
      await expect(standby.direct.promote(after.epoch + 1, 6000)).rejects.toThrow(/leader key in etcd/);
      const endpoint = await spawnEtcdEndpoint(server.endpoints, root, cluster.base.groupId);
      endpoints.push(endpoint);
      await waitFor('the etcd endpoint to serve', () => holds(endpoint.url, 1), 20_000);
      process.kill(after.service.pid!, 'SIGKILL');
      await waitFor(
        'the standby to take the key',
        async () => (await store!.leader(LEADER_KEY))?.holder === standby.nodeId,
        20_000,
      );
      await waitFor('the etcd endpoint to serve on the standby', () => write(endpoint.url, 1_000_000), 20_000);
    } finally {
      load.stop = true;
      await stopEndpoints(endpoints);
      store?.close();
      await cluster.stop();
    }
  }, 120_000);

  it('13.3 a switchover is an intention: the primary holds clients, stops, ships its last data and hands the key to the standby named; no acknowledged write is lost', async () => {
    const { cluster, endpointUrl, primary, standby } = await runningGroup(server.endpoints);
    const load = { seq: 10, acked: [] as number[], stop: false };
    try {
      // One the primary cannot act on: it says why, and serves on.
      const bad = { id: '0123456789abcdef', to: 'no-such-node', at: Date.now() };
      await cluster.store.put(SWITCHOVER_INTENT_KEY, JSON.stringify(bad));
      const refused = await waitFor('the refusal', () => cluster.store.get(intentResultName(bad.id)), 20_000);
      expect(JSON.parse(refused).error).toMatch(/not a live member/);
      expect((await cluster.leader())?.holder).toBe(primary.nodeId);
      const writing = (async () => {
        while (!load.stop) {
          const seq = ++load.seq;
          if (await write(endpointUrl, seq)) load.acked.push(seq);
        }
      })();
      await waitFor('writes through the endpoint', () => load.acked.length >= 20, 20_000);
      const before = (await cluster.leader())!;
      const intent = { id: 'fedcba9876543210', to: standby.nodeId, at: Date.now() };
      await cluster.store.put(SWITCHOVER_INTENT_KEY, JSON.stringify(intent));
      const next = await waitFor(
        'the standby to hold the key',
        async () => {
          const l = await cluster.leader();
          return l?.holder === standby.nodeId && l;
        },
        30_000,
      );
      expect(BigInt(next.token)).toBeGreaterThan(BigInt(before.token));
      const ackedThen = load.acked.length;
      await waitFor('writes acknowledged by the new primary', () => load.acked.length > ackedThen + 20, 30_000);
      load.stop = true;
      await writing;
      // Every write the old primary acknowledged is on the new one.
      const res = await fetch(`${endpointUrl}/writes/missing`, {
        method: 'POST',
        body: JSON.stringify({ seqs: load.acked }),
      });
      expect(await res.json()).toEqual({ missing: 0 });
      const history = JSON.parse((await cluster.store.get(historyKeyName(next.token)))!);
      expect(history.cause).toBe('switchover');
      expect(history.previous.holder).toBe(primary.nodeId);
      const old = await primary.direct.status();
      expect(old.role).toBe('standby');
      expect(await serviceHealthy(primary.servicePort)).toBe(false);
    } finally {
      load.stop = true;
      await cluster.stop();
    }
  }, 120_000);

  it('13.1 with ships far apart, when the primary’s node is lost, a standby that holds the last ship takes over: its lag is what it missed of the shipped data, not the time since', async () => {
    const cluster = await startEtcdCluster({
      etcd: server.endpoints,
      settings: { shippingIntervalMs: 8000, maxLagMs: 3000 },
    });
    try {
      const first = await waitFor('a member to take the leader key', () => cluster.leader(), 20_000);
      const primary = cluster.nodeById(first.holder);
      const standby = cluster.nodes.find((n) => n !== primary)!;
      // Between two ships, well past the maximum lag after the last one, which the standby holds.
      await waitFor(
        'the standby to hold the last ship, 4 to 6 s after it',
        async () => {
          const p = await primary.direct.status();
          if (p.data.snapshot === null) return false;
          // The standby applies every interval too, at its own moments: it is asked to apply the last one now.
          let s = await standby.direct.status();
          if (s.data.snapshot !== p.data.snapshot) s = await standby.direct.applyNow(undefined);
          const since = Date.now() - (p.data.dataTime ?? Date.now());
          return s.data.snapshot === p.data.snapshot && since > 4000 && since < 6000;
        },
        60_000,
      );
      // The primary's node is lost (its agent killed): nothing more is said for it than its last renewal.
      primary.process!.kill('SIGKILL');
      await takesKey(cluster, standby);
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
