// Helpers for the failover tests on etcd: a running two-node group with a write its standby holds, the notes
// service's API as a client uses it, the open GET /primary, and the takeover after a lost agent.
import { expect } from 'vitest';

import type { TestNode } from './cluster';
import { through, write } from './notes-client';
import { type EtcdCluster, startEtcdCluster } from './etcd-cluster';
import { runs } from './processes';
import { waitFor } from './wait';

export { through, write };

/** GET /primary on a node's agent (or another method or path), unsigned, as a load balancer asks it. */
export async function primaryCheck(
  node: TestNode,
  method = 'GET',
  path = '/primary',
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${node.agentPort}${path}`, { method, signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

/** Whether the service behind `url` holds write `seq`. */
export async function holds(url: string, seq: number): Promise<boolean> {
  const res = await through(url, '/writes/missing', { method: 'POST', body: JSON.stringify({ seqs: [seq] }) });
  if (!res?.ok) return false;
  return ((await res.json()) as { missing: number }).missing === 0;
}

/** A two-node group with a primary serving through the endpoint, and a write the standby holds. */
export async function runningGroup(etcd: string[]): Promise<{
  cluster: EtcdCluster;
  endpointUrl: string;
  primary: TestNode;
  standby: TestNode;
  first: { holder: string; token: string };
}> {
  const cluster = await startEtcdCluster({ etcd });
  const endpoint = await cluster.startEndpoint();
  const first = await waitFor('a member to take the leader key', () => cluster.leader(), 20_000);
  const primary = cluster.nodeById(first.holder);
  const standby = cluster.nodes.find((n) => n !== primary)!;
  await waitFor('a write through the endpoint', () => write(endpoint.url, 1), 20_000);
  const written = Date.now();
  await waitFor(
    'the standby to apply data from after the write',
    async () => ((await standby.direct.status()).data.dataTime ?? 0) > written,
    20_000,
  );
  return { cluster, endpointUrl: endpoint.url, primary, standby, first };
}

/** Sends `signal` to the primary's agent, and expects its service gone before the standby holds the key (each
 *  step checks the service first and the key second), and the endpoint serving the data again. */
export async function expectTakeoverAfterServiceGone(
  cluster: EtcdCluster,
  endpointUrl: string,
  primary: TestNode,
  standby: TestNode,
  signal: NodeJS.Signals,
): Promise<void> {
  const servicePid = (await primary.direct.status()).service.pid!;
  primary.process!.kill(signal);
  const order = await waitFor(
    'the standby to take the key',
    async () => {
      const serviceGone = !runs(servicePid);
      const l = await cluster.leader();
      return l?.holder === standby.nodeId && { serviceGone };
    },
    30_000,
  );
  expect(order.serviceGone).toBe(true);
  await waitFor('the endpoint to serve again', () => holds(endpointUrl, 1), 20_000);
}

/** Waits until `node` holds the cluster's leader key. */
export function takesKey(cluster: EtcdCluster, node: TestNode, timeoutMs = 20_000): Promise<true> {
  return waitFor(
    `${node.name} to take the key`,
    async () => (await cluster.leader())?.holder === node.nodeId,
    timeoutMs,
  );
}
