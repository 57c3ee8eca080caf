// 13.4 When etcd answers again, a node's coordination reads it again at once. The etcd client's fault handling
// (a circuit breaker per member) held a member back for five seconds after three failed calls: through a quorum
// loss, that is most of a 6 s TTL after etcd is back, and a primary that could not renew in time lost its key to
// a standby although nothing had failed (a loaded CI run saw it, in the chaos test and in etcd-failsafe.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EtcdStore } from '@/lib/engine/coordination/etcd-store';
import { startEtcd, stopEtcd } from '@/scripts/etcd.mjs';

import { tempDir } from './helpers';
import { waitFor } from './support/wait';

describe('13.4 etcd back after an outage', () => {
  let server: Awaited<ReturnType<typeof startEtcd>>;
  beforeAll(async () => {
    server = await startEtcd(tempDir('etcd-recovery'), 1);
  }, 90_000);
  afterAll(() => {
    if (server) stopEtcd(server.dir);
  });

  it('13.4 a store that could not reach etcd reads it again as soon as etcd answers, not seconds later', async () => {
    const store = new EtcdStore({ endpoints: server.endpoints, prefix: '/recovery/', requestTimeoutMs: 500 });
    const pid = server.members[0].pid!;
    try {
      expect(await store.leader('key')).toBeNull();
      // The member stops answering (a machine that hangs): every call fails, again and again.
      process.kill(pid, 'SIGSTOP');
      let failures = 0;
      try {
        await waitFor(
          'five calls to fail',
          async () => {
            await store.leader('key').catch(() => failures++);
            return failures >= 5;
          },
          20_000,
        );
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // Another client sees etcd answer: from then on, well within a TTL, so does this one.
      const fresh = new EtcdStore({ endpoints: server.endpoints, prefix: '/recovery/', requestTimeoutMs: 500 });
      await waitFor(
        'etcd to answer a new client',
        () =>
          fresh.leader('key').then(
            () => true,
            () => false,
          ),
        20_000,
      );
      fresh.close();
      await waitFor(
        'etcd to answer the store again',
        () =>
          store.leader('key').then(
            () => true,
            () => false,
          ),
        2000,
      );
    } finally {
      store.close();
    }
  }, 60_000);
});
