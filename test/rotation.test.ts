// 09.4: rotating a node's credentials. A real agent, registered with the control plane and run from the config it
// issues; after a rotation, every API refuses the old secret at once: the storage API and the agent's own (which
// learns of it from the control plane, by a request signed with the secret it revokes), even if the old config is
// put back.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '@/lib/engine/free-port';
import { CLI, tempDir } from './helpers';
import { storageHttpServer } from './support/cluster';
import {
  killAgent,
  listen,
  startRegisteredAgent,
  stopControlPlaneParts,
  type RegisteredAgent,
} from './support/control-plane';
import { exitOf, waitFor } from './support/wait';

process.env.LIFELINE_DATA_DIR = tempDir('rotation');

afterAll(stopControlPlaneParts);

describe('09.4 rotating a node’s credentials', () => {
  let agent: RegisteredAgent;
  let agentUrl: string;

  beforeAll(async () => {
    const { agentStorage } = await import('@/lib/control/agent-storage');
    process.env.LIFELINE_URL = await listen(storageHttpServer(agentStorage));
    agent = await startRegisteredAgent('rot-1');
    const { db } = await import('@/lib/db/client');
    const { nodes } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    agentUrl = db().select().from(nodes).where(eq(nodes.id, agent.nodeId)).get()!.agentUrl;
  });

  /** What becomes of a request signed with `secret`, to the agent's API or to the storage API: accepted, or
   *  refused (a 401, which is not signed: the server does not take that secret). */
  async function askWith(secret: string, where: 'agent' | 'storage'): Promise<string> {
    const { signedFetch } = await import('@/lib/engine/nodes/signed-request');
    const { STORAGE_API_PATH } = await import('@/lib/engine/nodes/http-storage');
    const creds = { nodeId: agent.nodeId, secret };
    const [base, route] =
      where === 'agent' ? [agentUrl, '/v1/status'] : [process.env.LIFELINE_URL!, `${STORAGE_API_PATH}/config`];
    try {
      const res = await signedFetch(creds, base, 'GET', route, { timeoutMs: 10_000 });
      return res.status === 200 ? 'accepted' : `HTTP ${res.status}`;
    } catch (err) {
      if (/is not signed by node/.test((err as Error).message)) return 'refused';
      throw err;
    }
  }

  it('09.4 the old secret is refused at once by the storage API and by the agent, also after the agent restarts from its old config; the new one works once installed', async () => {
    const old = agent.credentials.secret;
    expect(await askWith(old, 'agent')).toBe('accepted');
    expect(await askWith(old, 'storage')).toBe('accepted');

    const { rotateNodeCredentials, agentConfig } = await import('@/lib/control/node-registry');
    const rotated = await rotateNodeCredentials(agent.nodeId);
    expect(rotated.revoked).toEqual({ ok: true });
    expect(await askWith(old, 'storage')).toBe('refused');
    expect(await askWith(old, 'agent')).toBe('refused');

    // The old config put back (a copy kept somewhere, or an attacker's): the agent still refuses its secret.
    killAgent(agent, 'SIGTERM');
    await waitFor('the agent to exit', exitOf(agent.agent), 20_000);
    const oldConfig = path.join(process.env.LIFELINE_DATA_DIR!, 'rot-1.json');
    const again = spawn(process.execPath, [CLI, 'agent', '--config', oldConfig], { stdio: 'ignore' });
    try {
      await waitFor(
        'the agent to answer again',
        async () => (await askWith(old, 'agent').catch(() => null)) !== null,
        20_000,
      );
      expect(await askWith(old, 'agent')).toBe('refused');
    } finally {
      again.kill('SIGTERM');
      await waitFor('the agent to exit', exitOf(again), 20_000);
    }

    // The new config, installed: the agent answers the new secret.
    const config = agentConfig(rotated.node, rotated.credentials, undefined, path.join(agent.dir, 'agent'));
    const newConfig = path.join(process.env.LIFELINE_DATA_DIR!, 'rot-1-new.json');
    const { service } = JSON.parse(readFileSync(oldConfig, 'utf8')) as { service: unknown };
    writeFileSync(newConfig, JSON.stringify({ ...config, service }), { mode: 0o600 });
    const renewed = spawn(process.execPath, [CLI, 'agent', '--config', newConfig], { stdio: 'ignore' });
    try {
      await waitFor(
        'the agent to answer the new secret',
        async () => (await askWith(rotated.credentials.secret, 'agent').catch(() => null)) === 'accepted',
        20_000,
      );
      expect(await askWith(old, 'agent')).toBe('refused');
      expect(await askWith(rotated.credentials.secret, 'storage')).toBe('accepted');
    } finally {
      renewed.kill('SIGTERM');
      await waitFor('the agent to exit', exitOf(renewed), 20_000);
    }
  });

  it('09.4 after a rotation, the key the new secret gives opens the node’s own repository and no other; the old one opens nothing', async () => {
    const { registerNode, rotateNodeCredentials } = await import('@/lib/control/node-registry');
    const { ensureRepository } = await import('@/lib/control/repository');
    const { nodeRepositoryLocation } = await import('@/lib/control/tenants');
    const { nodeRepositoryPassword } = await import('@/lib/engine/nodes/tenants');
    const { openRepository } = await import('@/lib/engine');
    const { node, credentials } = await registerNode({
      name: 'rot-keys',
      agentUrl: 'http://127.0.0.1:9',
      serviceHost: '127.0.0.1',
      servicePort: 9,
    });
    const own = nodeRepositoryLocation(node.id);
    const before = nodeRepositoryPassword(credentials.secret);
    await openRepository(own, before);
    const rotated = await rotateNodeCredentials(node.id);
    const after = nodeRepositoryPassword(rotated.credentials.secret);
    await openRepository(own, after);
    await expect(openRepository(own, before)).rejects.toMatchObject({ code: 'wrong-password' });
    // Neither opens the control plane's repository or another node's.
    const main = (await ensureRepository()).location;
    for (const other of [main, nodeRepositoryLocation(agent.nodeId)])
      for (const password of [before, after])
        await expect(openRepository(other, password)).rejects.toMatchObject({ code: 'wrong-password' });
  }, 60_000);

  it('09.4 a rotation whose agent cannot be reached says so: that agent obeys the old secret until its config is replaced', async () => {
    const { registerNode, rotateNodeCredentials } = await import('@/lib/control/node-registry');
    // A port nobody listens on (a free one: fetch refuses some ports, such as 9, before it tries).
    const { node } = await registerNode({
      name: 'rot-away',
      agentUrl: `http://127.0.0.1:${await freePort()}`,
      serviceHost: '127.0.0.1',
      servicePort: 9,
    });
    const rotated = await rotateNodeCredentials(node.id);
    expect(rotated.revoked).toEqual({ ok: false, why: expect.stringMatching(/ECONNREFUSED/) });
    const { db } = await import('@/lib/db/client');
    const { nodeEvents } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const events = db().select().from(nodeEvents).where(eq(nodeEvents.nodeId, node.id)).all();
    expect(events.find((e) => e.kind === 'rotated')?.detail).toMatch(/did not confirm revoking the old secret/);
  });
});
