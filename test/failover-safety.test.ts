// The failure cases a failover must not get wrong: a flapping service (no failover), a primary cut off from the
// control plane while its service still runs (never two primaries serving), and a control plane that is down
// (the healthy primary keeps serving).
import { afterEach, describe, expect, it } from 'vitest';

import { serviceHealthy, startCluster, type Cluster, type TestNode } from './support/cluster';
import { pace, waitFor } from './support/wait';

/** Watches both nodes' services directly, every 25 ms, until stopped; `stop` tells how many looks found both
 *  serving at once. */
function watchBothServing(a: TestNode, b: TestNode): { stop: () => Promise<number> } {
  let both = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const [ua, ub] = await Promise.all([serviceHealthy(a.servicePort), serviceHealthy(b.servicePort)]);
      if (ua && ub) both++;
      await pace(25);
    }
  })();
  return {
    stop: async () => {
      watching = false;
      await watcher;
      return both;
    },
  };
}

describe('failover safety', () => {
  let cluster: Cluster | null = null;

  afterEach(async () => {
    await cluster?.stop();
    cluster = null;
  });

  it('a flapping service, failing fewer probes in a row than the threshold, causes no failover', async () => {
    cluster = await startCluster({ group: { probeIntervalMs: 300, probeTimeoutMs: 300 } });
    const c = cluster;
    const [a] = c.nodes;
    await waitFor('node-a to become primary', () => c.coordinator.primaryNodeId === a.nodeId, 30_000);
    const failed = () => c.serviceProbes.filter((p) => p.nodeId === a.nodeId && !p.ok).length;
    const succeeded = () => c.serviceProbes.filter((p) => p.nodeId === a.nodeId && p.ok).length;
    for (let i = 0; i < 8; i++) {
      // The coordinator reaches the service through a link that this test cuts until a probe has failed, then
      // mends until one has succeeded: one or two probes fail in a row, never three, however slow the machine.
      const before = failed();
      a.serviceLink.setTarget(null, { cutExisting: true });
      await waitFor(`probe failure ${i + 1} of node-a's service`, () => failed() > before, 20_000);
      a.serviceLink.setTarget({ host: '127.0.0.1', port: a.servicePort });
      const good = succeeded();
      await waitFor(`a good probe of node-a's service after failure ${i + 1}`, () => succeeded() > good, 20_000);
    }
    expect(failed()).toBeGreaterThanOrEqual(8);
    expect(c.records.filter((r) => r.kind !== 'start')).toEqual([]);
    expect(c.coordinator.primaryNodeId).toBe(a.nodeId);
    expect(await serviceHealthy(a.servicePort)).toBe(true);
  });

  it('a primary cut off from the control plane while its service runs never serves beside a promoted standby', async () => {
    cluster = await startCluster();
    const c = cluster;
    const [a, b] = c.nodes;
    await waitFor('node-a to become primary', () => c.coordinator.primaryNodeId === a.nodeId, 30_000);
    const watch = watchBothServing(a, b);
    a.link.setTarget(null, { cutExisting: true });
    const record = await waitFor('node-b to be promoted', () => c.records.find((r) => r.kind === 'failover'), 60_000);
    expect(await watch.stop()).toBe(0);
    expect(record.ok).toBe(true);
    expect(record.toNodeId).toBe(b.nodeId);
    // node-a stopped serving by itself when its lease ran out: a peer still heard the control plane.
    const status = await a.direct.status();
    expect(status.service.state).not.toBe('running');
    expect(status.data.lastError).toMatch(/lease ran out/);
    expect(record.timeline.map((s) => s.step).join('\n')).toMatch(/node-a cannot be reached[\s\S]*lease/);
    expect(await serviceHealthy(b.servicePort)).toBe(true);
    // When the link comes back, node-a hears that it is a standby now and stays one.
    a.link.setTarget({ host: '127.0.0.1', port: a.agentPort });
    await waitFor('node-a to stand by', async () => (await a.direct.status()).role === 'standby', 30_000);
    expect(await serviceHealthy(a.servicePort)).toBe(false);
  }, 90_000);

  it('while the control plane is down, the healthy primary keeps serving (failsafe)', async () => {
    cluster = await startCluster();
    const c = cluster;
    const [a] = c.nodes;
    await waitFor('node-a to become primary', () => c.coordinator.primaryNodeId === a.nodeId, 30_000);
    await c.coordinator.stop();
    // Well past the 6 s lease: every peer confirms it lost the control plane too, so node-a serves on.
    let down = 0;
    for (let t = 0; t < 9000; t += 100) {
      if (!(await serviceHealthy(a.servicePort))) down++;
      await pace(100);
    }
    expect(down).toBe(0);
    const status = await a.direct.status();
    expect(status.role).toBe('primary');
    expect(status.failsafe).toBe(true);
  }, 60_000);

  it('05.1 a standby promoted while it vouches for a primary in failsafe serves only once that primary has stopped', async () => {
    cluster = await startCluster();
    const c = cluster;
    const [a, b] = c.nodes;
    await waitFor('node-a to become primary', () => c.coordinator.primaryNodeId === a.nodeId, 30_000);
    await waitFor('node-b to stand by', async () => (await b.direct.status()).role === 'standby', 30_000);
    await c.coordinator.stop();
    // node-b confirms the outage to node-a (it has not heard the control plane either), so node-a serves on.
    await waitFor('node-a to serve on in failsafe', async () => (await a.direct.status()).failsafe, 30_000);
    // A control plane that cannot reach node-a (and was slow to reach node-b) promotes node-b at once.
    const watch = watchBothServing(a, b);
    let both: number;
    try {
      const status = await b.direct.promote((await b.direct.status()).epoch + 1, 6000);
      expect(status.role).toBe('primary');
      await waitFor('node-b to serve', () => serviceHealthy(b.servicePort), 20_000);
      await waitFor('node-a to stop serving', async () => !(await serviceHealthy(a.servicePort)), 20_000);
    } finally {
      both = await watch.stop();
    }
    expect(both).toBe(0);
    expect((await a.direct.status()).data.lastError).toMatch(/lease ran out/);
  }, 90_000);

  it('05.1 through a control-plane outage the primary serves on, though a peer is out of reach for a moment, and no failover follows its return', async () => {
    cluster = await startCluster();
    const c = cluster;
    const [a, b] = c.nodes;
    await waitFor('node-a to become primary', () => c.coordinator.primaryNodeId === a.nodeId, 30_000);
    await waitFor('node-b to stand by', async () => (await b.direct.status()).role === 'standby', 30_000);
    // Watch node-a's service directly, every 50 ms, for the whole episode.
    let down = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        if (!(await serviceHealthy(a.servicePort))) down++;
        await pace(50);
      }
    })();
    try {
      await c.coordinator.stop();
      await waitFor('node-a to serve on in failsafe', async () => (await a.direct.status()).failsafe, 30_000);
      // node-a cannot reach its peer for a moment (a lost packet, a busy machine): its failsafe questions fail.
      b.link.setTarget(null, { cutExisting: true });
      await pace(1600);
      b.link.setTarget({ host: '127.0.0.1', port: b.agentPort });
      // The control plane comes back (a restarted dashboard): it finds node-a serving and keeps it primary.
      c.restartCoordinator();
      await waitFor('node-a to leave failsafe', async () => !(await a.direct.status()).failsafe, 20_000);
      // Long enough for a wrongful failover to show: a primary that stopped serving is found down in three probes.
      await pace(4000);
    } finally {
      b.link.setTarget({ host: '127.0.0.1', port: b.agentPort });
      watching = false;
      await watcher;
    }
    expect(down).toBe(0);
    expect(c.records.filter((r) => r.kind !== 'start')).toEqual([]);
    expect(c.coordinator.primaryNodeId).toBe(a.nodeId);
    expect((await a.direct.status()).role).toBe('primary');
  }, 90_000);
});
