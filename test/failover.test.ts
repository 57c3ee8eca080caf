// Failover with real agents, real service processes, a real repository and real sockets: a crash is taken over
// by the standby, a switchover loses no acknowledged write, the old primary rejoins and can take the service
// back, and a drill leaves nothing running.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WriteLoad } from '@/lib/demo/write-load';
import { serviceHealthy, startCluster, type Cluster } from './support/cluster';
import { waitFor } from './support/wait';

async function missing(port: number, seqs: number[]): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/writes/missing`, {
    method: 'POST',
    body: JSON.stringify({ seqs }),
  });
  return ((await res.json()) as { missing: number }).missing;
}

/** Child processes of a process, from /proc: what an agent has left running. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('a failover group of two nodes', () => {
  let cluster: Cluster;
  let load: WriteLoad;
  let ackedBeforeCrash: number[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ group: { shippingIntervalMs: 1000 } });
    const [a] = cluster.nodes;
    await waitFor('node-a to become primary', () => cluster.coordinator.primaryNodeId === a.nodeId, 30_000);
    load = new WriteLoad(cluster.endpointUrl, { intervalMs: 50 });
    load.start();
    await waitFor('writes through the endpoint', () => load.stats().acked >= 20, 30_000);
  }, 60_000);

  afterAll(async () => {
    load?.stop();
    await cluster?.stop();
  });

  it('a switchover moves the service to the standby and loses no acknowledged write', async () => {
    const [, b] = cluster.nodes;
    await waitFor(
      'node-b to hold shipped data',
      () => cluster.coordinator.views().find((v) => v.nodeId === b.nodeId)?.status?.data.snapshot,
      30_000,
    );
    const record = await cluster.coordinator.switchover(b.nodeId);
    expect(record?.ok).toBe(true);
    expect(cluster.coordinator.primaryNodeId).toBe(b.nodeId);
    const acked = load.stats().acked;
    await waitFor('writes on the new primary', () => load.stats().acked >= acked + 10, 30_000);
    load.stop();
    const seqs = load.recentAcked().map((h) => h.seq);
    expect(seqs.length).toBeGreaterThan(20);
    expect(await missing(b.servicePort, seqs)).toBe(0);
    // The old primary no longer serves: only one service answers.
    expect(await serviceHealthy(cluster.nodes[0].servicePort)).toBe(false);
    load.start();
  });

  it('when the primary service is killed, the standby is promoted and the endpoint serves again', async () => {
    const [a, b] = cluster.nodes;
    await waitFor(
      'node-a to hold data shipped by node-b',
      async () => {
        const s = await a.direct.status();
        return s.role === 'standby' &&
          s.data.dataTime !== null &&
          s.data.dataTime > cluster.records.at(-1)!.timeline.at(-1)!.at
          ? s
          : null;
      },
      30_000,
    );
    const pid = (await b.direct.status()).service.pid!;
    const before = cluster.records.length;
    process.kill(pid, 'SIGKILL');
    const record = await waitFor(
      'the failover to be recorded',
      () => cluster.records.length > before && cluster.records.at(-1),
      30_000,
    );
    expect(record.kind).toBe('failover');
    expect(record.ok).toBe(true);
    expect(record.fromNodeId).toBe(b.nodeId);
    expect(record.toNodeId).toBe(a.nodeId);
    expect(record.reason).toMatch(/exited/);
    expect(record.timeline.map((s) => s.step).join('\n')).toMatch(
      /fenced node-b[\s\S]*promoted node-a[\s\S]*endpoint switched[\s\S]*first good request/,
    );
    expect(record.rtoMs).toBeGreaterThan(0);
    expect(record.rpoMs).not.toBeNull();
    // Clients of the endpoint see the service again, on node-a.
    const acked = load.recentAcked();
    ackedBeforeCrash = acked.filter((h) => h.at <= record.outageStartedAt).map((h) => h.seq);
    const cost = await load.measure(record.outageStartedAt, record.timeline.at(-1)!.at);
    expect(cost.clientGapMs).toBeGreaterThan(0);
    // Every write acknowledged before the restore point the standby started from survived; only writes
    // acknowledged after it (within the RPO) can be lost.
    const restorePoint = record.dataTime!;
    expect(
      await missing(
        a.servicePort,
        acked.filter((h) => h.at < restorePoint).map((h) => h.seq),
      ),
    ).toBe(0);
    expect(cost.lostWrites).toBeLessThanOrEqual(
      acked.filter((h) => h.at >= restorePoint && h.at <= record.outageStartedAt).length,
    );
    expect(await serviceHealthy(a.servicePort)).toBe(true);
    expect(await serviceHealthy(b.servicePort)).toBe(false);
  });

  it('the failed node rejoins as a standby with its data replaced, and can take the service back', async () => {
    const [a, b] = cluster.nodes;
    const failedAt = cluster.records.at(-1)!.outageStartedAt;
    const status = await waitFor(
      'node-b to apply data shipped by node-a',
      async () => {
        const s = await b.direct.status();
        return s.role === 'standby' && s.data.dataTime !== null && s.data.dataTime > failedAt ? s : null;
      },
      30_000,
    );
    expect(status.service.state).not.toBe('running');
    // Its own data was set aside, not deleted: every write acknowledged before the crash is still in it, the
    // ones the failover lost included.
    const [kept] = readdirSync(path.join(b.stateDir, 'replaced'));
    const db = new Database(path.join(b.stateDir, 'replaced', kept, 'notes.db'), { readonly: true });
    const has = db.prepare('SELECT 1 FROM writes WHERE seq = ?').pluck();
    expect(ackedBeforeCrash.filter((seq) => !has.get(seq))).toEqual([]);
    db.close();
    const record = await cluster.coordinator.switchover(b.nodeId);
    expect(record?.ok).toBe(true);
    expect(cluster.coordinator.primaryNodeId).toBe(b.nodeId);
    expect(await serviceHealthy(b.servicePort)).toBe(true);
    expect(await serviceHealthy(a.servicePort)).toBe(false);
  });

  it('a drill on the standby starts the service on a scratch port, measures it and leaves nothing running', async () => {
    const [a] = cluster.nodes;
    const result = await a.direct.drill();
    expect(result.ok).toBe(true);
    expect(result.timeToReadyMs).toBeGreaterThan(0);
    expect(result.snapshot).toMatch(/^[0-9a-f]{64}$/);
    expect(childrenOf(a.process!.pid!)).toEqual([]);
    expect(readdirSync(a.stateDir).filter((f) => f.startsWith('drill-'))).toEqual([]);
  });
});
