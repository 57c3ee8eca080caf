// Bringing your own node, as an operator does: register it on /nodes, take the agent config the page shows once,
// complete its service section and run the agent with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import type { Page } from '@playwright/test';

import type { z } from 'zod';

import type { serviceConfigSchema } from '../../lib/engine/nodes/agent-config';
import { AgentClient } from '../../lib/engine/nodes/agent-client';
import { exitOf, waitFor } from '../../test/support/wait';
import { expect, freePort } from './app';

export interface RunningNode {
  name: string;
  servicePort: number;
  agent: ChildProcess;
  /** The agent's own API, signed with the node's credentials (what the dashboard sees of it). */
  client: AgentClient;
}

/** Registers `name` in the dashboard (the page is on /nodes), writes the config it showed with the service that
 *  `service` describes (its port and data directory given), under `dir`, and starts the agent with it. */
export async function registerAndRun(
  page: Page,
  dir: string,
  name: string,
  service: (place: {
    port: number;
    dataDir: string;
  }) => Omit<z.input<typeof serviceConfigSchema>, 'port' | 'dataDir' | 'host'>,
): Promise<RunningNode> {
  const agentPort = await freePort();
  const servicePort = await freePort();
  const form = page.getByRole('region', { name: 'Register a node' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Agent address').fill(`http://127.0.0.1:${agentPort}`);
  await form.getByLabel('Service port').fill(String(servicePort));
  await form.getByRole('button', { name: 'Register node' }).click();
  await expect(form.getByRole('status')).toHaveText(`Node ${name} registered.`);
  const config = JSON.parse((await form.getByLabel('Agent config').textContent())!);
  expect(config.secret).toMatch(/^[0-9a-f]{64}$/);
  // 14.3 the directories it proposes are the node's own: two nodes on one machine need no edit there.
  expect(config.stateDir).toBe(`/var/lib/lifeline/${name}/agent`);
  expect(config.service.dataDir).toBe(`/var/lib/lifeline/${name}/service`);
  // The operator completes the service section and moves the directories under the test's own.
  config.stateDir = path.join(dir, name, 'agent');
  const dataDir = path.join(dir, name, 'service');
  config.service = { ...service({ port: servicePort, dataDir }), port: servicePort, dataDir };
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  const agent = spawn(process.execPath, ['dist/lifeline.cjs', 'agent', '--config', file], { stdio: 'ignore' });
  const client = new AgentClient(`http://127.0.0.1:${agentPort}`, { nodeId: config.nodeId, secret: config.secret });
  return { name, servicePort, agent, client };
}

/** Stops the agents (each stops its service). */
export async function stopAgents(nodes: Iterable<RunningNode>): Promise<void> {
  for (const { agent } of nodes) {
    agent.kill('SIGTERM');
    await waitFor('an agent to exit', exitOf(agent), 20_000);
  }
}

/** Creates a failover group of `members` on /nodes with its endpoint on `endpointPort`. */
export async function createGroup(
  page: Page,
  name: string,
  endpointPort: number,
  members: string[],
  shippingSeconds = 2,
): Promise<void> {
  const create = page.getByRole('region', { name: 'Create a failover group' });
  await create.getByLabel('Group name').fill(name);
  await create.getByLabel('Endpoint').fill(`127.0.0.1:${endpointPort}`);
  await create.getByLabel('Shipping interval (seconds)').fill(String(shippingSeconds));
  for (const m of members) await create.getByRole('checkbox', { name: m }).check();
  await create.getByRole('button', { name: 'Create group' }).click();
}
