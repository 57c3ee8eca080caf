// `npm run bench:failover`: failover trials on a real two-node group (agents and notes services as processes,
// the stable endpoint, a write load through it), with the defaults (probe every 1 s, down after 3, shipping
// every 5 s, lease 6 s). Four measurements:
//   1. RTO, RPO and lost writes over TRIALS failovers when the agent reports the crash at once;
//   2. the same with probes alone (the agent's crash report ignored);
//   3. false failovers under a flapping service, and the control plane's CPU while probing 100 agents at 1 s;
//   4. on etcd (13.8; TTL 6 s, a three-member etcd, three nodes, three endpoints): the RTO a client sees through
//      an endpoint when the primary's service crashes with its agent alive, and when the primary's whole node
//      is lost (agent, watchdog and service killed at once).
// Prints a Markdown table for docs/benchmarks.md. FAILOVER_TRIALS (default 20) sets the number of trials;
// FAILOVER_PARTS=etcd runs the fourth alone.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { WriteLoad } from '@/lib/demo/write-load';
import { GroupCoordinator, GROUP_DEFAULTS } from '@/lib/engine/failover/coordinator';
import { startEtcd, stopEtcd } from '@/scripts/etcd.mjs';
import { startCluster, type Cluster, type TestNode } from '@/test/support/cluster';
import { client } from '@/test/support/chaos-clients';
import { startEtcdCluster } from '@/test/support/etcd-cluster';
import { childrenOf } from '@/test/support/processes';
import { waitFor } from '@/test/support/wait';

const TRIALS = Number(process.env.FAILOVER_TRIALS ?? 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Trial {
  rtoMs: number;
  clientGapMs: number | null;
  rpoMs: number;
  lostWrites: number | null;
}

function stats(values: number[]): { median: number; worst: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, worst: sorted.at(-1) ?? NaN };
}

async function failoverTrials(agentReports: boolean): Promise<Trial[]> {
  const cluster = await startCluster({ agentReports });
  const trials: Trial[] = [];
  try {
    await waitFor('a primary', () => cluster.coordinator.primaryNodeId, 30_000);
    const load = new WriteLoad(cluster.endpointUrl, { intervalMs: 20 });
    load.start();
    for (let i = 0; i < TRIALS; i++) {
      const primary = cluster.nodes.find((n) => n.nodeId === cluster.coordinator.primaryNodeId)!;
      const standby = cluster.nodes.find((n) => n !== primary)!;
      // Steady state: the standby holds shipped data; then the crash lands at a random point of the interval.
      await waitFor(
        'the standby to hold shipped data',
        async () => {
          const s = await standby.direct.status();
          return (
            s.role === 'standby' &&
            s.data.dataTime !== null &&
            s.data.dataTime > (cluster.records.at(-1)?.timeline.at(-1)?.at ?? 0)
          );
        },
        60_000,
      );
      await sleep(Math.random() * GROUP_DEFAULTS.shippingIntervalMs);
      const before = cluster.records.length;
      const pid = (await primary.direct.status()).service.pid!;
      process.kill(pid, 'SIGKILL');
      const record = await waitFor(
        'the failover',
        () => cluster.records.length > before && cluster.records.at(-1),
        60_000,
      );
      if (!record.ok) throw new Error(`trial ${i + 1}: the failover failed: ${record.error}`);
      const cost = await load.measure(record.outageStartedAt, record.timeline.at(-1)!.at);
      trials.push({
        rtoMs: record.rtoMs!,
        clientGapMs: cost.clientGapMs,
        rpoMs: record.rpoMs!,
        lostWrites: cost.lostWrites,
      });
      process.stdout.write(
        `  trial ${i + 1}: RTO ${record.rtoMs} ms (client gap ${cost.clientGapMs} ms), RPO ${record.rpoMs} ms, ${cost.lostWrites} writes lost\n`,
      );
    }
    load.stop();
  } finally {
    await cluster.stop();
  }
  return trials;
}

async function falseFailoversUnderFlapping(seconds: number): Promise<{ failedProbes: number; failovers: number }> {
  const cluster: Cluster = await startCluster();
  try {
    await waitFor('a primary', () => cluster.coordinator.primaryNodeId, 30_000);
    const primary = cluster.nodes.find((n) => n.nodeId === cluster.coordinator.primaryNodeId)!;
    const started = Date.now();
    // Down for 1.5 s in every 4 s: one or two probes fail in a row, never the three that mark a node down.
    while (Date.now() - started < seconds * 1000) {
      primary.serviceLink.setTarget(null, { cutExisting: true });
      await sleep(1500);
      primary.serviceLink.setTarget({ host: '127.0.0.1', port: primary.servicePort });
      await sleep(2500);
    }
    return {
      failedProbes: cluster.serviceProbes.filter((p) => !p.ok).length,
      failovers: cluster.records.filter((r) => r.kind !== 'start').length,
    };
  } finally {
    await cluster.stop();
  }
}

/** 100 agents in one helper process; this process probes them all at 1 s and measures its own CPU. */
async function probingCost(agents: number, seconds: number): Promise<{ cpuPercent: number; probes: number }> {
  const host = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'agents-host.ts'), String(agents)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LIFELINE_EXIT_WITH_PARENT: String(process.pid) },
  });
  const list = await new Promise<{ nodeId: string; secret: string; url: string }[]>((resolve) =>
    readline.createInterface({ input: host.stdout! }).once('line', (l) => resolve(JSON.parse(l))),
  );
  let probes = 0;
  const coordinators = list.map(
    (a, i) =>
      new GroupCoordinator(
        {
          ...GROUP_DEFAULTS,
          id: `g${i}`,
          name: `g${i}`,
          members: [
            {
              nodeId: a.nodeId,
              name: `n${i}`,
              agentUrl: a.url,
              secret: a.secret,
              priority: 0,
              service: { host: '127.0.0.1', port: 9 },
            },
          ],
          primaryNodeId: null,
          epoch: 0,
          reservedEpoch: 0,
          groupKey: '00'.repeat(32),
          maintenance: true,
        },
        {
          setEndpoint: async () => undefined,
          probeEndpoint: async () => false,
          reserveEpoch: () => undefined,
          savePrimary: () => undefined,
          onProbe: () => probes++,
        },
      ),
  );
  for (const c of coordinators) c.start();
  await sleep(3000);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const p0 = probes;
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const done = probes - p0;
  await Promise.all(coordinators.map((c) => c.stop()));
  host.kill('SIGTERM');
  return { cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100, probes: done };
}

/** 4: RTO on etcd, as a client writing through an endpoint every 20 ms sees it: the longest wait between two
 *  acknowledged writes across the fault. */
async function etcdTrials(fault: 'service' | 'node'): Promise<number[]> {
  const server = await startEtcd(path.join(os.tmpdir(), `lifeline-bench-etcd-${process.pid}`), 3);
  const cluster = await startEtcdCluster({
    etcd: server.endpoints,
    nodes: 3,
    settings: { ttlSeconds: 6, renewMs: 2000, shippingIntervalMs: 1000 },
  });
  const endpoint = await cluster.startEndpoint();
  const writer = client(endpoint.url, 'endpoint', 1, 20);
  const rtos: number[] = [];
  try {
    for (let i = 0; i < TRIALS; i++) {
      const leader = await waitFor('a member to hold the key', () => cluster.leader(), 60_000);
      const since = Date.now();
      await waitFor(
        'every standby to hold fresh data',
        async () => {
          for (const n of cluster.nodes.filter((n) => n.nodeId !== leader.holder)) {
            const s = await n.direct.status().catch(() => null);
            if (s?.role !== 'standby' || (s.data.dataTime ?? 0) <= since) return false;
          }
          return true;
        },
        60_000,
      );
      // Every standby may take over (none in the cooldown after a failure of its own, which a trial before
      // may have caused): the RTO of one failure, not of three in a row.
      await waitFor('every standby to be eligible', () => cluster.allMayTakeOver(leader.holder), 60_000);
      await sleep(Math.random() * 1000);
      const primary: TestNode = cluster.nodeById(leader.holder);
      const pid = (await primary.direct.status()).service.pid!;
      const t0 = performance.now();
      if (fault === 'node') {
        const watchdogs = childrenOf(primary.process!.pid!, 'watchdog.cjs');
        primary.process!.kill('SIGKILL');
        for (const w of watchdogs) process.kill(w, 'SIGKILL');
      }
      process.kill(-pid, 'SIGKILL');
      await waitFor('a write through the endpoint', () => writer.servedSince(t0), 60_000);
      rtos.push(writer.longestGapSince(t0));
      console.log(`  ${fault} lost: served again after ${(rtos.at(-1)! / 1000).toFixed(2)} s`);
      if (fault === 'node') await cluster.startAgent(primary);
    }
  } finally {
    await writer.stop();
    await cluster.stop();
    stopEtcd(server.dir);
  }
  return rtos;
}

async function main() {
  if (process.env.FAILOVER_PARTS === 'etcd') return etcdOnly();
  console.log(
    `failover benchmark: ${TRIALS} trials each, defaults ${JSON.stringify({ probeIntervalMs: GROUP_DEFAULTS.probeIntervalMs, downAfter: GROUP_DEFAULTS.detector.downAfter, shippingIntervalMs: GROUP_DEFAULTS.shippingIntervalMs, leaseMs: GROUP_DEFAULTS.leaseMs })}`,
  );
  console.log('agent-detected crashes:');
  const reported = await failoverTrials(true);
  console.log('probes alone:');
  const probesOnly = await failoverTrials(false);
  console.log('flapping service (60 s):');
  const flapping = await falseFailoversUnderFlapping(60);
  console.log('probing 100 agents at 1 s (30 s):');
  const cost = await probingCost(100, 30);
  console.log('on etcd, the service crashes (agent alive):');
  const etcdService = await etcdTrials('service');
  console.log('on etcd, the whole node is lost:');
  const etcdNode = await etcdTrials('node');

  const row = (name: string, trials: Trial[]) => {
    const rto = stats(trials.map((t) => t.rtoMs));
    const gap = stats(trials.map((t) => t.clientGapMs ?? NaN).filter((n) => !Number.isNaN(n)));
    const rpo = stats(trials.map((t) => t.rpoMs));
    const lost = stats(trials.map((t) => t.lostWrites ?? 0));
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    return `| ${name} | ${trials.length} | ${s(rto.median)} / ${s(rto.worst)} | ${s(gap.median)} / ${s(gap.worst)} | ${s(rpo.median)} / ${s(rpo.worst)} | ${lost.median} / ${lost.worst} |`;
  };
  console.log(
    '\n| detection | trials | RTO median / worst | client gap median / worst | RPO median / worst | lost writes median / worst (of ~50/s) |',
  );
  console.log('|---|---|---|---|---|---|');
  console.log(row('agent reports the crash', reported));
  console.log(row('probes alone', probesOnly));
  console.log(`\nflapping service: ${flapping.failedProbes} failed probes in 60 s, ${flapping.failovers} failovers`);
  console.log(
    `probing 100 agents every 1 s: ${cost.probes} probes in 30 s, ${cost.cpuPercent.toFixed(1)} % of one core`,
  );
  etcdTable(etcdService, etcdNode);
}

async function etcdOnly() {
  console.log(`failover benchmark on etcd: ${TRIALS} trials each`);
  console.log('the service crashes (agent alive):');
  const service = await etcdTrials('service');
  console.log('the whole node is lost:');
  etcdTable(service, await etcdTrials('node'));
}

function etcdTable(service: number[], node: number[]): void {
  const row = (name: string, rtos: number[], target: string) => {
    const { median, worst } = stats(rtos);
    return `| ${name} | ${rtos.length} | ${(median / 1000).toFixed(2)} s | ${(worst / 1000).toFixed(2)} s | ${target} |`;
  };
  console.log('\n| on etcd (TTL 6 s) | trials | RTO median | worst | target (median) |');
  console.log('|---|---|---|---|---|');
  console.log(row('service crash, agent alive', service, '2 s'));
  console.log(row('whole node lost', node, 'TTL + 2 s = 8 s'));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
