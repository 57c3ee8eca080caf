// 13.5 the embedded store for one machine runs the very same state machine as etcd: agents (the CLI, each with its
// watchdog) guarding the notes service and a stable endpoint following the leader key, with `lifeline store` as
// their only coordination. A crash of the primary's service fails over; a restart of the store (killed) costs no
// failover: the primary serves on through the failsafe while the store is down, and renews once it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { serviceHealthy } from './support/cluster';
import { type RunningStore, startStore } from './support/embedded-store';
import { holds, runningGroup, takesKey, write } from './support/etcd-group';
import { waitFor } from './support/wait';

describe('13.5 failover on the embedded store, with no dashboard', () => {
  let store: RunningStore;
  beforeAll(async () => {
    store = await startStore(tempDir('embedded-store'));
  }, 30_000);
  afterAll(async () => {
    await store?.kill();
  });

  it('13.5 a restart of the store costs no failover; a crash of the primary’s service then fails over to the standby, which serves every write through the endpoint', async () => {
    const { cluster, endpointUrl, primary, standby, first } = await runningGroup([store.url]);
    try {
      // The store is killed and started again: its state (the key, the token) is on disk; while it is away, the
      // primary keeps its service (every member says it is not primary), and renews when the store is back.
      const servicePid = (await primary.direct.status()).service.pid!;
      await store.kill();
      expect(await write(endpointUrl, 2)).toBe(true);
      await store.restart();
      await waitFor(
        'the primary to renew on the restarted store',
        async () =>
          (await cluster.leader())?.holder === primary.nodeId && (await primary.direct.status()).role === 'primary',
        20_000,
      );
      expect(await cluster.leader()).toEqual(first);
      expect((await primary.direct.status()).service.pid).toBe(servicePid);
      // The endpoint reads the store again once its connection is back (gRPC's reconnection backoff): a write it
      // holds meanwhile may outlast the client's second.
      await waitFor('a write through the endpoint', () => write(endpointUrl, 3), 20_000);
      const written = Date.now();
      await waitFor(
        'the standby to apply data from after the writes',
        async () => ((await standby.direct.status()).data.dataTime ?? 0) > written,
        20_000,
      );

      process.kill(servicePid, 'SIGKILL');
      await takesKey(cluster, standby);
      const next = (await cluster.leader())!;
      expect(BigInt(next.token)).toBeGreaterThan(BigInt(first.token));
      for (const seq of [1, 2, 3])
        await waitFor(`write ${seq} through the endpoint`, () => holds(endpointUrl, seq), 20_000);
      expect(await write(endpointUrl, 4)).toBe(true);
      expect((await primary.direct.status()).role).toBe('standby');
      expect(await serviceHealthy(primary.servicePort)).toBe(false);
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
