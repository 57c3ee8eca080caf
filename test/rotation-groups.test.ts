// 09.4 with failover groups: rotating a member's credentials gives its group a new key (the node may have been
// compromised). The group's data must keep flowing: the primary ships with the new key, and the standby, running
// the config issued with its new secret, applies what was shipped after the rotation.
import { readFileSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '@/lib/engine/free-port';
import { tempDir } from './helpers';
import { storageHttpServer } from './support/cluster';
import {
  listen,
  restartRegisteredAgent,
  startRegisteredAgent,
  stopControlPlaneParts,
  type RegisteredAgent,
} from './support/control-plane';
import { waitFor } from './support/wait';

process.env.LIFELINE_DATA_DIR = tempDir('rotation-groups');

afterAll(stopControlPlaneParts);

describe('09.4 rotating the credentials of a group’s member', () => {
  const started: RegisteredAgent[] = [];
  let groupId: string;

  beforeAll(async () => {
    const { agentStorage } = await import('@/lib/control/agent-storage');
    const { createFailoverGroup, startGroup } = await import('@/lib/control/failover');
    process.env.LIFELINE_URL = await listen(storageHttpServer(agentStorage));
    for (const name of ['rg-1', 'rg-2']) started.push(await startRegisteredAgent(name));
    const group = createFailoverGroup({
      name: 'rg',
      endpointHost: '127.0.0.1',
      endpointPort: await freePort(),
      shippingIntervalMs: 1000,
      memberIds: started.map((a) => a.nodeId),
    });
    groupId = group.id;
    await startGroup(group.id);
  }, 60_000);

  const statusOf = async (agent: RegisteredAgent) => {
    const { AgentClient } = await import('@/lib/engine/nodes/agent-client');
    const { db } = await import('@/lib/db/client');
    const { nodes } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const node = db().select().from(nodes).where(eq(nodes.id, agent.nodeId)).get()!;
    return new AgentClient(node.agentUrl, { nodeId: node.id, secret: node.secret }).status();
  };

  it('09.4 after a standby’s credentials are rotated and its new config installed, it applies what the primary ships with the group’s new key', async () => {
    const { rotateNodeCredentials } = await import('@/lib/control/node-registry');
    const { rekeyGroupsOf } = await import('@/lib/control/failover');
    const { db } = await import('@/lib/db/client');
    const { failoverGroups } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const primaryId = await waitFor(
      'a primary',
      () => db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get()?.primaryNodeId,
      30_000,
    );
    const standby = started.find((a) => a.nodeId !== primaryId)!;
    const before = Date.now();
    await waitFor(
      'the standby to apply data',
      async () => ((await statusOf(standby)).data.dataTime ?? 0) > before,
      30_000,
    );
    const oldKey = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get()!.groupKey;

    const { credentials } = await rotateNodeCredentials(standby.nodeId);
    await rekeyGroupsOf(standby.nodeId);
    expect(db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get()!.groupKey).not.toBe(oldKey);
    // The operator installs the config issued with the new secret and restarts the agent.
    const file = standby.configFile;
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), secret: credentials.secret }), {
      mode: 0o600,
    });
    await restartRegisteredAgent(standby);
    const rotatedAt = Date.now();
    const primary = started.find((a) => a.nodeId === primaryId)!;
    await waitFor(
      'the primary to ship with the new key, and the standby to apply it',
      async () => ((await statusOf(standby)).data.dataTime ?? 0) > rotatedAt,
      30_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; the primary says: ${(await statusOf(primary)).data.lastError}`);
    });
    await waitFor(
      'the primary to ship without an error',
      async () => (await statusOf(primary)).data.lastError === null,
      20_000,
    );
  }, 120_000);
});
