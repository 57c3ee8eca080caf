// Runs N agents in one process for the probing-cost benchmark (bench/failover.ts): each with its own state
// directory, credentials and HTTP server on a free port, guarding nothing. Prints their addresses as one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { Agent } from '@/lib/engine/nodes/agent';
import { createAgentServer } from '@/lib/engine/nodes/agent-server';
import { newSecret } from '@/lib/engine/nodes/signed-request';

async function main() {
  const count = Number(process.argv[2] ?? 100);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-agents-'));
  const out = [];
  for (let i = 0; i < count; i++) {
    const nodeId = `bench-${i}`;
    const secret = newSecret();
    const agent = new Agent({
      node: nodeId,
      nodeId,
      secret,
      listen: '127.0.0.1:0',
      controlPlane: 'http://127.0.0.1:9',
      repositoryPassword: 'unused-in-this-benchmark',
      stateDir: path.join(dir, nodeId),
      runPlanCommands: false,
      restoreOtherSources: false,
      service: {
        command: ['true'],
        env: {},
        stopSignal: 'SIGTERM',
        stopTimeoutMs: 1000,
        port: 9,
        host: '127.0.0.1',
        health: { tcp: true },
        startTimeoutMs: 1000,
        dataDir: path.join(dir, nodeId, 'data'),
        sqlite: [],
        paths: [],
      },
    });
    await agent.start();
    const server = createAgentServer(agent);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    out.push({ nodeId, secret, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  const stop = () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  // Stops with the benchmark that started it.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop(), 500);
}

void main();
