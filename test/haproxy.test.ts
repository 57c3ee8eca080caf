// 13.6: Debian's haproxy, run with docs/examples/haproxy.cfg as it is, in front of a group on a real etcd: it sends
// clients only to the node whose agent answers GET /primary with 200, and when that node's service fails and the
// standby takes the leader key, clients are served through haproxy again, by the standby.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '@/lib/engine/free-port';
import { startEtcd, stopEtcd } from '@/scripts/etcd.mjs';
import { ensureHaproxy, HAPROXY } from '@/scripts/haproxy.mjs';

import { tempDir } from './helpers';
import { startEtcdCluster } from './support/etcd-cluster';
import { holds, takesKey, write } from './support/etcd-group';
import { exitOf, waitFor } from './support/wait';

const CONFIG = path.resolve(__dirname, '..', 'docs', 'examples', 'haproxy.cfg');

describe('13.6 haproxy in front of a group, by GET /primary', () => {
  let server: Awaited<ReturnType<typeof startEtcd>>;
  beforeAll(async () => {
    ensureHaproxy();
    server = await startEtcd(tempDir('etcd-haproxy'), 1);
  }, 180_000);
  afterAll(() => {
    if (server) stopEtcd(server.dir);
  });

  it('13.6 docs/examples/haproxy.cfg sends clients to the primary only, and fails over through it', async () => {
    const cluster = await startEtcdCluster({ etcd: server.endpoints });
    let haproxy: ChildProcess | null = null;
    try {
      const first = await waitFor('a member to take the leader key', () => cluster.leader(), 20_000);
      const primary = cluster.nodeById(first.holder);
      const standby = cluster.nodes.find((n) => n !== primary)!;
      const [a, b] = cluster.nodes;
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      haproxy = spawn(HAPROXY, ['-f', CONFIG, '-db', '-q'], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          LISTEN: `127.0.0.1:${port}`,
          NODE_A_SERVICE: `127.0.0.1:${a.servicePort}`,
          NODE_A_AGENT_PORT: String(a.agentPort),
          NODE_B_SERVICE: `127.0.0.1:${b.servicePort}`,
          NODE_B_AGENT_PORT: String(b.agentPort),
        },
      });
      await waitFor('a write through haproxy', () => write(url, 1), 20_000);
      // It went to the primary: the standby's service does not even run.
      expect(await holds(`http://127.0.0.1:${primary.servicePort}`, 1)).toBe(true);
      process.kill((await primary.direct.status()).service.pid!, 'SIGKILL');
      await takesKey(cluster, standby);
      await waitFor('a write through haproxy again', () => write(url, 2), 20_000);
      expect(await holds(`http://127.0.0.1:${standby.servicePort}`, 2)).toBe(true);
      expect(await holds(url, 2)).toBe(true);
    } finally {
      if (haproxy && haproxy.exitCode === null) {
        haproxy.kill('SIGTERM');
        await waitFor('haproxy to exit', exitOf(haproxy), 10_000);
      }
      await cluster.stop();
    }
  }, 120_000);
});
