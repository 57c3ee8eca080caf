// 14.1 a service's health is defined once, in its node's config: the dashboard's probes follow it. A third-party
// service checked by TCP (its config says so) that answers 404 on /health starts as primary at once, and a crash
// of it fails over to the standby, the endpoint serving again, both recorded as they went. 14.4 one that listens
// on every interface is named. 14.2 one that fails to start is tried again until it starts, each failure
// explained by its own output.
import { writeFileSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '@/lib/engine/free-port';

import { tempDir } from './helpers';
import { storageHttpServer } from './support/cluster';
import { listen, startRegisteredAgent, stopControlPlaneParts, type RegisteredAgent } from './support/control-plane';
import { waitFor } from './support/wait';

process.env.LIFELINE_DATA_DIR = tempDir('group-health');

/** A service that serves, but has no /health: every request is answered 404 (as many a third-party server does). */
const NO_HEALTH = `require('http').createServer((q, s) => { s.statusCode = 404; s.end('not found'); }).listen(Number(process.env.PORT), process.env.HOST)`;

let storageServer: http.Server;
const started: RegisteredAgent[] = [];

afterAll(async () => {
  await stopControlPlaneParts();
  storageServer?.close();
});

describe('14.1 the health check is the node’s own', () => {
  let groupId: string;
  let endpointPort: number;

  beforeAll(async () => {
    const { agentStorage } = await import('@/lib/control/agent-storage');
    storageServer = storageHttpServer(agentStorage);
    process.env.LIFELINE_URL = await listen(storageServer);
    // api-2's service listens on every interface (14.4).
    for (const [name, host] of [
      ['api-1', '127.0.0.1'],
      ['api-2', '0.0.0.0'],
    ])
      started.push(
        await startRegisteredAgent(name, (port, dir) => ({
          command: [process.execPath, '-e', NO_HEALTH],
          env: { PORT: '{port}', HOST: host },
          port,
          // Checked by TCP: the config's default, said here as a user would.
          health: { tcp: true },
          dataDir: `${dir}/service`,
        })),
      );
  }, 60_000);

  it('14.1 a service checked by TCP that answers 404 on /health starts as primary at once and fails over through the endpoint', async () => {
    const { createFailoverGroup, startGroup } = await import('@/lib/control/failover');
    const { db } = await import('@/lib/db/client');
    const { failoverEvents, failoverGroups } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    endpointPort = await freePort();
    const group = createFailoverGroup({
      name: 'api',
      endpointHost: '127.0.0.1',
      endpointPort,
      shippingIntervalMs: 1000,
      memberIds: started.map((a) => a.nodeId),
    });
    groupId = group.id;
    await startGroup(groupId);
    const events = () => db().select().from(failoverEvents).where(eq(failoverEvents.groupId, groupId)).all();
    // The start is recorded once the first request through the endpoint went well, by the node's own check.
    const start = await waitFor('the start to be recorded', () => events().find((e) => e.kind === 'start'), 30_000);
    expect(start.error).toBeNull();
    expect(start.ok).toBe(true);
    const through = await fetch(`http://127.0.0.1:${endpointPort}/health`);
    expect(through.status).toBe(404);

    const primary = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get()!.primaryNodeId!;
    const { AgentClient } = await import('@/lib/engine/nodes/agent-client');
    const { nodes } = await import('@/lib/db/schema');
    const row = db().select().from(nodes).where(eq(nodes.id, primary)).get()!;
    const status = await new AgentClient(row.agentUrl, { nodeId: row.id, secret: row.secret }).status();
    expect(status.service.health).toEqual({ tcp: true });
    expect(status.service.exposed).toBeNull();
    process.kill(status.service.pid!, 'SIGKILL');
    const failover = await waitFor(
      'the failover to be recorded',
      () => events().find((e) => e.kind === 'failover'),
      30_000,
    );
    expect(failover.error).toBeNull();
    expect(failover.ok).toBe(true);
    expect(failover.toNodeId).not.toBe(primary);
    expect((await fetch(`http://127.0.0.1:${endpointPort}/`)).status).toBe(404);
  }, 90_000);

  it('14.4 a service that listens on every interface is named in its agent’s status (which the node’s tile shows), with why and what to do', async () => {
    const { db } = await import('@/lib/db/client');
    const { nodes } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const { AgentClient } = await import('@/lib/engine/nodes/agent-client');
    const row = db().select().from(nodes).where(eq(nodes.name, 'api-2')).get()!;
    const client = new AgentClient(row.agentUrl, { nodeId: row.id, secret: row.secret });
    const status = await waitFor(
      'api-2 to serve',
      async () => {
        const s = await client.status();
        return s.service.state === 'running' && s;
      },
      30_000,
    );
    expect(status.service.exposed).toMatch(/every interface \(0\.0\.0\.0:\d+\).*past its fencing/);
  }, 60_000);
});

describe('14.2 a service that fails to start', () => {
  it('14.2 is tried again, with backoff, until it starts: each failed start is recorded with the error its output named', async () => {
    const { createFailoverGroup, startGroup } = await import('@/lib/control/failover');
    const { db } = await import('@/lib/db/client');
    const { failoverEvents } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    // A service that needs a file that is not there yet (its operator is still writing it), and says so first.
    const ready = path.join(tempDir('late-config'), 'config.yml');
    const late = `const fs = require('fs'); if (!fs.existsSync(process.env.READY)) { console.error('Error: cannot read ' + process.env.READY + ': not there yet'); for (let i = 0; i < 200; i++) console.error('    at frame ' + i); process.exit(1); } require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')`;
    const members: RegisteredAgent[] = [];
    for (const name of ['late-1', 'late-2'])
      members.push(
        await startRegisteredAgent(name, (port, dir) => ({
          command: [process.execPath, '-e', late],
          env: { PORT: '{port}', READY: ready },
          port,
          dataDir: `${dir}/service`,
        })),
      );
    const port = await freePort();
    const group = createFailoverGroup({
      name: 'late',
      endpointHost: '127.0.0.1',
      endpointPort: port,
      shippingIntervalMs: 1000,
      memberIds: members.map((m) => m.nodeId),
    });
    await startGroup(group.id);
    const events = () => db().select().from(failoverEvents).where(eq(failoverEvents.groupId, group.id)).all();
    const failed = await waitFor(
      'a failed start to be recorded',
      () => events().find((e) => e.kind === 'start' && !e.ok),
      30_000,
    );
    expect(failed.error).toMatch(/Error: cannot read .*config\.yml: not there yet/);
    // The node kept the whole output, for its page.
    const { AgentClient } = await import('@/lib/engine/nodes/agent-client');
    const { nodes } = await import('@/lib/db/schema');
    const tried = db().select().from(nodes).where(eq(nodes.id, failed.toNodeId!)).get()!;
    const output = await new AgentClient(tried.agentUrl, { nodeId: tried.id, secret: tried.secret }).serviceOutput();
    expect(output.file).toMatch(/service\.log$/);
    expect(output.tail).toContain('not there yet');
    expect(output.tail).toContain('at frame 199');
    writeFileSync(ready, 'ready: true\n');
    const started = await waitFor(
      'a start tried again to succeed',
      () => events().find((e) => e.kind === 'start' && e.ok),
      90_000,
    );
    expect(started.id).toBeGreaterThan(failed.id);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  }, 150_000);
});
