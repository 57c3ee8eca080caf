// 13.1, the leader loop on a real etcd: when the primary stops renewing its key, the freshest standby within the
// group's maximum lag takes over, with a higher fencing token, and the old primary learns that it lost the key; a
// standby too far behind never takes over, and says why. Each member's loop is stepped by the test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EtcdStore } from '@/lib/engine/coordination/etcd-store';
import { LEADER_KEY, PRIMARY_POSITION_KEY } from '@/lib/engine/coordination/group-keys';
import { LeaderLoop, type PrimaryPosition, type TickResult } from '@/lib/engine/coordination/leader-loop';
import { startEtcd, stopEtcd } from '@/scripts/etcd.mjs';

import { tempDir } from './helpers';
import { waitFor } from './support/wait';

const TTL = 2;

describe('13.1 the leader loop', () => {
  let server: Awaited<ReturnType<typeof startEtcd>>;
  const stores: EtcdStore[] = [];
  beforeAll(async () => {
    server = await startEtcd(tempDir('etcd-loop'), 1);
  }, 60_000);
  afterAll(() => {
    for (const s of stores) s.close();
    if (server) stopEtcd(server.dir);
  });

  /** A member of `group` whose position the test sets, and what its callbacks were told. */
  const member = (group: string, nodeId: string, position: number, maxLag: number) => {
    const store = new EtcdStore({ endpoints: server.endpoints, prefix: `/groups/${group}/` });
    stores.push(store);
    const told = { promoted: [] as string[], demoted: [] as string[], noCandidate: [] as string[] };
    const state = { position, forced: false, synchronous: undefined as string | null | undefined };
    const loop = new LeaderLoop({
      store,
      nodeId,
      ttlSeconds: TTL,
      maxLag,
      position: async () => state.position,
      onPromote: async (token) => void told.promoted.push(token),
      onDemote: async (why) => void told.demoted.push(why),
      onNoCandidate: (why) => void told.noCandidate.push(why),
      forced: async () => state.forced,
      synchronous: () => state.synchronous,
    });
    return { loop, told, state, store };
  };

  it('13.1 when the primary stops renewing, the freshest standby within the maximum lag takes over with a higher token; the other defers; the old primary learns it lost the key', async () => {
    const a = member('g1', 'node-a', 100, 50);
    const b = member('g1', 'node-b', 100, 50);
    const c = member('g1', 'node-c', 90, 50);
    expect(await a.loop.tick()).toBe('promoted');
    expect(await a.loop.tick()).toBe('leader');
    expect(await b.loop.tick()).toBe('following');
    expect(await c.loop.tick()).toBe('following');
    // node-a stalls: it renews nothing from now on. The standbys go on.
    const seenByC: TickResult[] = [];
    await waitFor(
      'node-b to take over once node-a’s lease has run out',
      async () => {
        seenByC.push(await c.loop.tick());
        return (await b.loop.tick()) === 'promoted';
      },
      TTL * 1000 + 5000,
    );
    expect(seenByC).not.toContain('promoted');
    expect(seenByC).toContain('following');
    expect(await c.loop.tick()).toBe('following');
    expect(BigInt(b.told.promoted[0])).toBeGreaterThan(BigInt(a.told.promoted[0]));
    expect(await a.loop.tick()).toBe('demoted');
    expect(a.told.demoted[0]).toMatch(/leader key was lost/);
    expect(a.loop.token).toBeNull();
    // The old primary, back, follows the new one.
    expect(await a.loop.tick()).toBe('following');
    expect(await b.store.leader(LEADER_KEY)).toEqual({ holder: 'node-b', token: b.told.promoted[0] });
    for (const m of [a, b, c]) await m.loop.stop();
  }, 30_000);

  it('13.1 a primary whose service failed says so in its published position until it gives up the key: a renewal or a naming published in between keeps the failure and its time', async () => {
    const a = member('g-down', 'node-a', 100, 50);
    expect(await a.loop.tick()).toBe('promoted');
    const failedAt = Date.now();
    await a.loop.markDown('it exited with SIGKILL', failedAt);
    // The next renewal (its agent had not given up the key yet), and a naming of the synchronous standby.
    expect(await a.loop.tick()).toBe('leader');
    a.state.synchronous = 'node-b';
    await a.loop.publishNow();
    const published = JSON.parse((await a.store.get(PRIMARY_POSITION_KEY))!) as PrimaryPosition;
    expect(published).toMatchObject({
      holder: 'node-a',
      downAt: failedAt,
      why: 'it exited with SIGKILL',
      synchronous: 'node-b',
    });
    await a.loop.resign();
  });

  it('13.1 a standby further behind the primary than the group’s maximum lag never takes the key: no failover, and it says why', async () => {
    const a = member('g2', 'node-a', 1000, 50);
    const b = member('g2', 'node-b', 100, 50);
    expect(await a.loop.tick()).toBe('promoted');
    expect(await a.loop.tick()).toBe('leader');
    expect(await b.loop.tick()).toBe('following');
    await waitFor(
      'node-a’s lease to run out',
      async () => (await b.store.leader(LEADER_KEY)) === null,
      TTL * 1000 + 5000,
    );
    for (let i = 0; i < 3; i++) expect(await b.loop.tick()).toBe('not-eligible');
    expect(b.told.promoted).toEqual([]);
    expect(b.told.noCandidate[0]).toContain("node-b is 900 behind the primary's last position");
    expect(await b.store.leader(LEADER_KEY)).toBeNull();
    // Caught up to within the maximum, it takes over.
    b.state.position = 960;
    expect(await b.loop.tick()).toBe('promoted');
    for (const m of [a, b]) await m.loop.stop();
  }, 30_000);

  it('15.3 in a synchronous group only the standby the primary named synchronous takes the key, however fresh the others look; degraded (none named), the freshest does', async () => {
    const a = member('g4', 'node-a', 1000, 50);
    const b = member('g4', 'node-b', 990, 50);
    const c = member('g4', 'node-c', 1000, 50);
    expect(await a.loop.tick()).toBe('promoted');
    // node-a names node-b synchronous (it acknowledged every write node-a's clients were answered for).
    a.state.synchronous = 'node-b';
    await a.loop.publishNow();
    for (const m of [b, c]) expect(await m.loop.tick()).toBe('following');
    await waitFor(
      'node-a’s lease to run out',
      async () => (await b.store.leader(LEADER_KEY)) === null,
      TTL * 1000 + 5000,
    );
    // node-c published a newer position, but it is not the synchronous standby: it never takes the key.
    expect(await c.loop.tick()).toBe('not-eligible');
    expect(c.told.noCandidate.at(-1)).toBe(
      'the group replicates synchronously and node-b is its synchronous standby: only it holds every acknowledged write',
    );
    expect(await b.loop.tick()).toBe('promoted');
    await a.loop.stop();
    // node-b leads, degraded (its standby does not answer): the freshest member may take over after it.
    b.state.synchronous = null;
    await b.loop.publishNow();
    await b.loop.stop();
    await waitFor('node-c to take the free key', async () => (await c.loop.tick()) === 'promoted', TTL * 1000 + 5000);
    await c.loop.stop();
  }, 30_000);

  it('13.1 an admin may force a failover to a standby too far behind: it takes the free key, and only then', async () => {
    const a = member('g3', 'node-a', 1000, 50);
    const b = member('g3', 'node-b', 100, 50);
    expect(await a.loop.tick()).toBe('promoted');
    expect(await a.loop.tick()).toBe('leader');
    // Forced while the primary holds the key: it follows.
    b.state.forced = true;
    expect(await b.loop.tick()).toBe('following');
    b.state.forced = false;
    await waitFor(
      'node-a’s lease to run out',
      async () => (await b.store.leader(LEADER_KEY)) === null,
      TTL * 1000 + 5000,
    );
    expect(await b.loop.tick()).toBe('not-eligible');
    b.state.forced = true;
    expect(await b.loop.tick()).toBe('promoted');
    expect((await b.store.leader(LEADER_KEY))?.holder).toBe('node-b');
    for (const m of [a, b]) await m.loop.stop();
  }, 30_000);
});
