// The agent's API is closed to anyone without the node's secret, replays included, and the agent refuses a
// config file that others could read.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signRequest } from '@/lib/engine/nodes/signed-request';
import { CLI } from './helpers';
import { startCluster, type Cluster } from './support/cluster';
import { waitFor } from './support/wait';

describe('the agent', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1 });
  });
  afterAll(() => cluster?.stop());

  it('answers a signed request and refuses unsigned, forged and replayed ones', async () => {
    const [a] = cluster.nodes;
    const url = `http://127.0.0.1:${a.agentPort}/v1/status`;
    expect((await a.direct.status()).node).toBe('node-a');
    expect((await fetch(url)).status).toBe(401);
    const forged = signRequest({ nodeId: a.nodeId, secret: 'ff'.repeat(32) }, 'GET', '/v1/status');
    expect((await fetch(url, { headers: forged })).status).toBe(401);
    const signed = signRequest({ nodeId: a.nodeId, secret: a.secret }, 'GET', '/v1/status');
    expect((await fetch(url, { headers: signed })).status).toBe(200);
    expect((await fetch(url, { headers: signed })).status).toBe(401);
  });

  it('promotes its service only with a newer epoch', async () => {
    const [a] = cluster.nodes;
    await waitFor('node-a to become primary', () => cluster.coordinator.primaryNodeId === a.nodeId, 30_000);
    const epoch = (await a.direct.status()).epoch;
    await expect(a.direct.promote(epoch, 6000)).rejects.toThrow(/not newer/);
  });

  it('refuses to start with a config file that others can read', () => {
    const [a] = cluster.nodes;
    const copy = path.join(cluster.dir, 'readable.json');
    copyFileSync(a.configFile, copy);
    chmodSync(copy, 0o644);
    const r = spawnSync(process.execPath, [CLI, 'agent', '--config', copy], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/must be readable by its owner only/);
  });
});
