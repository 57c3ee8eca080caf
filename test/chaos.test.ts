// 13.8 chaos on every real part: a three-member etcd, three nodes (agents from the CLI, each with its watchdog,
// guarding the notes service), three `lifeline endpoint --etcd` processes, and the storage API that stands for the
// dashboard (it is all a group on etcd uses of it). Each fault is injected LIFELINE_CHAOS_TRIALS times (2 here, 20
// in `npm run chaos`) while clients write through every endpoint and to every service port directly, each write
// noted with its send and acknowledgment times on this process's monotonic clock. Asserted: no two services
// acknowledge writes in overlapping intervals, and every endpoint serves again within TTL + 30 s of the fault.
import { mkdirSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StableEndpoint } from '@/lib/engine/failover/stable-endpoint';
import { killMember, restartMember, startEtcd, stopEtcd } from '@/scripts/etcd.mjs';

import { tempDir } from './helpers';
import type { TestNode } from './support/cluster';
import { type EtcdCluster, type EtcdEndpoint, startEtcdCluster } from './support/etcd-cluster';
import { client, overlaps } from './support/chaos-clients';
import { childrenOf } from './support/processes';
import { waitFor } from './support/wait';

const TRIALS = Number(process.env.LIFELINE_CHAOS_TRIALS ?? 2);
/** Only the faults whose names contain this (all by default). */
const ONLY = process.env.LIFELINE_CHAOS_FAULTS ?? '';
/** A TTL of 6 s: with 3 s a loaded machine has 0.75 s to hear the failsafe's answers (etcd-failsafe.test.ts). */
const SETTINGS = { ttlSeconds: 6, renewMs: 2000 };
const TTL_MS = SETTINGS.ttlSeconds * 1000;
const SERVED_AGAIN_MS = TTL_MS + 30_000;
/** How long a fault the group must ride out is held: past a TTL, by when a lease that depended on it has run out. */
const HOLD_MS = TTL_MS + 2000;

interface Outcome {
  fault: string;
  failover: boolean;
  servedAgainMs: number;
}

describe('13.8 the check for two services serving at once', () => {
  const ack = (by: string, sent: number, acked = sent + 2) => ({ by, sent, acked });
  it('13.8 finds writes acknowledged by two services in turn, or one while the other’s was in flight; a clean handover passes', () => {
    const handover = [ack('a', 0), ack('a', 50), ack('a', 100), ack('b', 3000), ack('b', 3050)];
    expect(overlaps(handover)).toEqual([]);
    // Both serving: their single writes alternate.
    const alternating = [ack('a', 0), ack('b', 10), ack('a', 50), ack('b', 60), ack('a', 100)];
    expect(overlaps(alternating).length).toBeGreaterThan(0);
    // b acknowledged a write sent while a's was still in flight.
    expect(overlaps([ack('a', 0, 40), ack('b', 20, 30), ack('b', 80)]).length).toBeGreaterThan(0);
  });
});

describe('13.8 chaos: faults on every part, one at a time', () => {
  let server: Awaited<ReturnType<typeof startEtcd>>;
  let cluster: EtcdCluster;
  const endpoints: EtcdEndpoint[] = [];
  /** Each node reaches each etcd member through a link of its own, so that a test can cut the node off. */
  const links = new Map<string, StableEndpoint[]>();
  const direct: ReturnType<typeof client>[] = [];
  const through: ReturnType<typeof client>[] = [];
  const outcomes: Outcome[] = [];

  beforeAll(async () => {
    server = await startEtcd(tempDir('chaos-etcd'), 3);
    const members = server.endpoints.map((u) => new URL(u));
    const urls = new Map<string, string[]>();
    for (const name of ['node-a', 'node-b', 'node-c']) {
      const own: StableEndpoint[] = [];
      const ownUrls: string[] = [];
      for (const m of members) {
        const link = new StableEndpoint({ holdMs: 60_000 });
        ownUrls.push(`http://127.0.0.1:${await link.start()}`);
        link.setTarget({ host: m.hostname, port: Number(m.port) });
        own.push(link);
      }
      links.set(name, own);
      urls.set(name, ownUrls);
    }
    cluster = await startEtcdCluster({
      etcd: server.endpoints,
      nodes: 3,
      settings: { ...SETTINGS, shippingIntervalMs: 1000 },
      etcdFor: (node) => urls.get(node.name)!,
    });
    for (let i = 0; i < 3; i++) endpoints.push(await cluster.startEndpoint());
    cluster.nodes.forEach((n, i) => {
      direct.push(client(`http://127.0.0.1:${n.servicePort}`, n.name, (i + 1) * 100_000_000));
    });
    endpoints.forEach((e, i) => {
      through.push(client(e.url, `endpoint ${i + 1}`, (i + 4) * 100_000_000));
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...direct, ...through].map((c) => c.stop()));
    await cluster?.stop();
    for (const own of links.values()) for (const link of own) await link.stop();
    if (server) stopEtcd(server.dir);
    if (outcomes.length) report(outcomes);
  }, 120_000);

  /** A member holds the key and serves through every endpoint, every other member is a standby that applied data
   *  shipped after this began, and every agent runs: the group can take the next fault. */
  async function steady(): Promise<{ holder: string; token: string }> {
    for (;;) {
      const leader = await settle();
      // The same leadership from the first check to the last: else the checks start over.
      const now = await cluster.leader();
      if (now?.token === leader.token) return leader;
    }
  }

  async function settle(): Promise<{ holder: string; token: string }> {
    const since = Date.now();
    const sinceMono = performance.now();
    const leader = await waitFor('a member to hold the key', () => cluster.leader(), SERVED_AGAIN_MS);
    const seen = new Map<string, unknown>();
    await waitFor(
      'every standby to apply fresh data',
      async () => {
        for (const n of cluster.nodes) {
          if (n.nodeId === leader.holder) continue;
          const s = await n.direct.status().catch((err: Error) => err.message);
          seen.set(n.name, typeof s === 'string' ? s : { role: s.role, data: s.data, lastExit: s.service.lastExit });
          if (typeof s === 'string' || s.role !== 'standby' || (s.data.dataTime ?? 0) <= since) return false;
        }
        return true;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the standbys: ${JSON.stringify(Object.fromEntries(seen))}`);
    });
    await waitFor('every endpoint to serve', () => through.every((c) => c.servedSince(sinceMono)), SERVED_AGAIN_MS);
    // None in the cooldown after a failure of its own (a trial before may have caused one): one fault at a time.
    await waitFor('every standby to be eligible', () => cluster.allMayTakeOver(leader.holder), 60_000);
    return leader;
  }

  const keyMoved = (from: TestNode) => async () => {
    const l = await cluster.leader();
    return l !== null && l.holder !== from.nodeId;
  };
  /** True once `ms` have passed since `t0`: how long a fault is held. */
  const heldFor = (t0: number, ms: number) => () => performance.now() - t0 > ms;

  interface Fault {
    name: string;
    /** Injects the fault into the group whose primary is `primary`; resolves with what heals it, once the fault
     *  has been held as long as it must be. */
    inject(primary: TestNode, t0: number): Promise<() => Promise<void>>;
    /** Whether a failover is part of it (else the same member must keep the key). */
    failsOver: boolean;
  }

  const killGroup = (pid: number) => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  };

  const FAULTS: Fault[] = [
    {
      name: 'the primary’s service is killed',
      failsOver: true,
      async inject(primary) {
        const pid = (await primary.direct.status()).service.pid!;
        killGroup(pid);
        await waitFor('the key to move', keyMoved(primary), SERVED_AGAIN_MS);
        return async () => undefined;
      },
    },
    {
      name: 'the primary’s agent is killed',
      failsOver: true,
      async inject(primary) {
        primary.process!.kill('SIGKILL');
        await waitFor('the key to move', keyMoved(primary), SERVED_AGAIN_MS);
        return () => cluster.startAgent(primary);
      },
    },
    {
      name: 'every process of the primary’s node is killed',
      failsOver: true,
      async inject(primary) {
        const status = await primary.direct.status();
        const agent = primary.process!.pid!;
        const watchdogs = childrenOf(agent, 'watchdog.cjs');
        expect(watchdogs).toHaveLength(1);
        primary.process!.kill('SIGKILL');
        for (const pid of watchdogs) process.kill(pid, 'SIGKILL');
        killGroup(status.service.pid!);
        await waitFor('the key to move', keyMoved(primary), SERVED_AGAIN_MS);
        return () => cluster.startAgent(primary);
      },
    },
    {
      name: 'the dashboard (its storage API) is down',
      failsOver: false,
      async inject(primary, t0) {
        await cluster.storageDown();
        await waitFor(
          'a TTL and more without the dashboard, its ships failing',
          async () => heldFor(t0, HOLD_MS)() && (await primary.direct.status()).data.lastError !== null,
          4 * TTL_MS,
        );
        return () => cluster.storageUp();
      },
    },
    {
      name: 'one etcd member is killed',
      failsOver: false,
      async inject(_primary, t0) {
        const member = server.members[Math.floor(Math.random() * 3)].name;
        killMember(server, member);
        await waitFor('a TTL and more without one member', heldFor(t0, HOLD_MS), 3 * TTL_MS);
        return () => restartMember(server, member);
      },
    },
    {
      name: 'etcd loses its quorum (2 of 3 members killed)',
      failsOver: false,
      async inject(_primary, t0) {
        const kept = Math.floor(Math.random() * 3);
        const killed = server.members.filter((_, i) => i !== kept).map((m) => m.name);
        for (const m of killed) killMember(server, m);
        await waitFor('a TTL and more without a quorum', heldFor(t0, HOLD_MS), 3 * TTL_MS);
        return async () => {
          for (const m of killed) await restartMember(server, m);
        };
      },
    },
    {
      name: 'the primary’s agent is stopped (SIGSTOP) past the TTL, then resumed',
      failsOver: true,
      async inject(primary) {
        primary.process!.kill('SIGSTOP');
        await waitFor('the key to move', keyMoved(primary), SERVED_AGAIN_MS);
        return async () => {
          primary.process!.kill('SIGCONT');
        };
      },
    },
    {
      name: 'the primary is cut off from etcd',
      failsOver: true,
      async inject(primary) {
        const own = links.get(primary.name)!;
        const members = server.endpoints.map((u) => new URL(u));
        for (const link of own) link.setTarget(null, { cutExisting: true });
        await waitFor('the key to move', keyMoved(primary), SERVED_AGAIN_MS);
        return async () => {
          own.forEach((link, i) => {
            link.setTarget({ host: members[i].hostname, port: Number(members[i].port) });
          });
        };
      },
    },
  ];

  for (const fault of FAULTS.filter((f) => f.name.includes(ONLY)))
    it(
      `13.8 ${fault.name}, ${TRIALS} times: no two services acknowledge writes at once, and every endpoint serves again within TTL + 30 s`,
      async () => {
        for (let trial = 0; trial < TRIALS; trial++) {
          const before = await steady();
          const primary = cluster.nodeById(before.holder);
          const t0 = performance.now();
          const heal = await fault.inject(primary, t0);
          await heal();
          const healed = performance.now();
          await waitFor('every endpoint to serve again', () => through.every((c) => c.servedSince(healed)), 60_000);
          // How long a client of each endpoint waited at most, across the fault and its healing.
          const servedAgainMs = Math.max(...through.map((c) => c.longestGapSince(t0)));
          const after = await cluster.leader();
          const failover = after?.token !== before.token;
          expect(failover).toBe(fault.failsOver);
          outcomes.push({ fault: fault.name, failover, servedAgainMs });
          expect(servedAgainMs).toBeLessThanOrEqual(SERVED_AGAIN_MS);
          expect(overlaps(direct.flatMap((c) => c.acks))).toEqual([]);
        }
      },
      TRIALS * 180_000,
    );
});

/** The trials' table, printed and kept in test-results/chaos.json. */
function report(outcomes: Outcome[]): void {
  const faults = [...new Set(outcomes.map((o) => o.fault))];
  const rows = faults.map((fault) => {
    const mine = outcomes.filter((o) => o.fault === fault);
    const served = mine.map((o) => o.servedAgainMs).sort((a, b) => a - b);
    return {
      fault,
      trials: mine.length,
      failovers: mine.filter((o) => o.failover).length,
      servedAgainMedianS: served[Math.floor(served.length / 2)] / 1000,
      servedAgainMaxS: served[served.length - 1] / 1000,
    };
  });
  const lines = [
    '| fault | trials | failovers | served again, median | max |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.fault} | ${r.trials} | ${r.failovers} | ${r.servedAgainMedianS.toFixed(1)} s | ${r.servedAgainMaxS.toFixed(1)} s |`,
    ),
  ];
  console.log(`\n13.8 chaos (no overlapping acknowledgments in any trial)\n${lines.join('\n')}`);
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/chaos.json', JSON.stringify(rows, null, 2));
}
