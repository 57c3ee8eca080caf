// 13.1 and 13.5, the store under the leader loop, as a contract that etcd (Debian's etcd-server, started by
// scripts/etcd.mjs on 127.0.0.1) and the embedded store for one machine (`lifeline store`) both keep: a group's
// leader key has one holder at a time, is taken over only once its lease is gone, with a token that only grows;
// node credentials reach their own group's keys only. etcd's leadership also outlives the loss of one member of
// three; the embedded store's outlives a restart of its process.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { Etcd3, Range } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { enableAuth, grantPrefix } from '@/lib/engine/coordination/etcd-access';
import { EtcdStore } from '@/lib/engine/coordination/etcd-store';
import { killMember, restartMember, startEtcd, stopEtcd } from '@/scripts/etcd.mjs';

import { CLI, tempDir } from './helpers';
import { type RunningStore, startStore } from './support/embedded-store';
import { waitFor } from './support/wait';

/** The shortest lease etcd grants with the scripts' election timeout (1 s): 1.5 election timeouts, rounded up. */
const TTL = 2;

interface Backend {
  endpoints: string[];
  stop(): Promise<void> | void;
  /** etcd's cluster, to kill a member of. */
  etcd?: Awaited<ReturnType<typeof startEtcd>>;
  /** The embedded store's process, to restart. */
  embedded?: RunningStore;
}

const BACKENDS: { item: string; name: string; start(members: number): Promise<Backend> }[] = [
  {
    item: '13.1',
    name: 'etcd',
    start: async (members) => {
      const etcd = await startEtcd(tempDir('etcd'), members);
      return { endpoints: etcd.endpoints, etcd, stop: () => stopEtcd(etcd.dir) };
    },
  },
  {
    item: '13.5',
    name: 'the embedded store',
    start: async () => {
      const embedded = await startStore(tempDir('store'));
      return { endpoints: [embedded.url], embedded, stop: () => embedded.kill() };
    },
  },
];

describe.each(BACKENDS)('$item the leader key on $name', (backend) => {
  let server: Backend;
  const stores: EtcdStore[] = [];
  const store = (prefix: string) => {
    const s = new EtcdStore({ endpoints: server.endpoints, prefix });
    stores.push(s);
    return s;
  };
  beforeAll(async () => {
    server = await backend.start(3);
  }, 60_000);
  afterAll(async () => {
    for (const s of stores) s.close();
    await server?.stop();
  });

  it('13.1 of two members that try at once one holds the key; the other gets it only once the lease has run out, with a higher token', async () => {
    const a = store('/groups/g1/');
    const b = store('/groups/g1/');
    const [ra, rb] = await Promise.all([a.campaign('leader', 'node-a', TTL), b.campaign('leader', 'node-b', TTL)]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    const first = (ra ?? rb)!;
    const other = ra ? b : a;
    const otherName = ra ? 'node-b' : 'node-a';
    expect(await other.leader('leader')).toEqual({ holder: first.holder, token: first.token });
    expect(await other.campaign('leader', otherName, TTL)).toBeNull();
    // The holder stops renewing (a stalled agent): its lease runs out, and only then may the other take over.
    const second = await waitFor(
      'the lapsed leadership to be taken over',
      () => other.campaign('leader', otherName, TTL),
      TTL * 1000 + 5000,
    );
    expect(BigInt(second.token)).toBeGreaterThan(BigInt(first.token));
    expect(await first.renew()).toBe('lost');
    // The old holder's resign must not remove the new holder's key.
    await first.resign();
    expect(await a.leader('leader')).toEqual({ holder: otherName, token: second.token });
    await second.resign();
    expect(await a.leader('leader')).toBeNull();
  }, 30_000);

  it('13.1 a leadership renewed in time is kept past its TTL; resign hands the key over at once; groups do not share keys', async () => {
    const a = store('/groups/g2/');
    const b = store('/groups/g2/');
    const elsewhere = store('/groups/g3/');
    const held = (await a.campaign('leader', 'node-a', TTL))!;
    expect(held).not.toBeNull();
    expect(await elsewhere.campaign('leader', 'node-c', TTL)).not.toBeNull();
    const until = Date.now() + TTL * 1000 * 2;
    await waitFor(
      'two TTLs of renewals',
      async () => {
        expect(await held.renew()).toBe('renewed');
        expect(await b.campaign('leader', 'node-b', TTL)).toBeNull();
        return Date.now() > until;
      },
      TTL * 1000 * 4,
    );
    await held.resign();
    const next = await b.campaign('leader', 'node-b', TTL);
    expect(next?.holder).toBe('node-b');
    await next?.resign();
  }, 30_000);

  it.runIf(backend.name === 'etcd')(
    '13.1 the holder keeps the key, and others see it, while one of the three etcd members is down',
    async () => {
      const etcd = server.etcd!;
      const a = store('/groups/g4/');
      const held = (await a.campaign('leader', 'node-a', TTL))!;
      killMember(etcd, 'm0');
      try {
        const until = Date.now() + TTL * 1000 * 2;
        await waitFor(
          'renewals through the two members left',
          async () => (await held.renew()) === 'renewed' && Date.now() > until,
          TTL * 1000 * 6,
        );
        expect(await store('/groups/g4/').leader('leader')).toEqual({ holder: 'node-a', token: held.token });
      } finally {
        await restartMember(etcd, 'm0');
      }
      await held.resign();
    },
    60_000,
  );

  it.runIf(backend.name === 'the embedded store')(
    '13.5 a restart of the store (killed) keeps the holder, its token and every key; the lease runs a full TTL again, and tokens only grow; its files are the owner’s alone, and a second store on them is refused',
    async () => {
      const embedded = server.embedded!;
      // Its state holds password hashes: the owner's alone. One process per state directory.
      expect(statSync(embedded.dir).mode & 0o777).toBe(0o700);
      for (const f of readdirSync(embedded.dir)) expect(statSync(path.join(embedded.dir, f)).mode & 0o777).toBe(0o600);
      const second = spawnSync(process.execPath, [CLI, 'store', '--dir', embedded.dir, '--listen', '127.0.0.1:0'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(second.status).not.toBe(0);
      expect(second.stderr).toMatch(/locked/);
      const a = store('/groups/g5/');
      const held = (await a.campaign('leader', 'node-a', TTL))!;
      await a.put('intent/maintenance', 'on');
      await embedded.kill();
      await embedded.restart();
      // The same client reconnects by itself.
      expect(await held.renew()).toBe('renewed');
      expect(await a.leader('leader')).toEqual({ holder: 'node-a', token: held.token });
      expect(await a.get('intent/maintenance')).toBe('on');
      const b = store('/groups/g5/');
      expect(await b.campaign('leader', 'node-b', TTL)).toBeNull();
      // Left alone, the lease runs out once more, and the next holder's token is higher than any before the restart.
      const next = await waitFor('the lease to run out', () => b.campaign('leader', 'node-b', TTL), TTL * 1000 + 5000);
      expect(BigInt(next.token)).toBeGreaterThan(BigInt(held.token));
      await next.resign();
    },
    60_000,
  );
});

describe.each(BACKENDS)('$item a node’s credentials on $name', (backend) => {
  let server: Backend;
  const stores: EtcdStore[] = [];
  beforeAll(async () => {
    server = await backend.start(1);
  }, 60_000);
  afterAll(async () => {
    for (const s of stores) s.close();
    await server?.stop();
  });

  it('13.1 reach its own group’s keys only: another group’s leader key and keys outside any group are refused, and nothing is written there; it cannot make users or roles, nor grant itself more', async () => {
    const admin = { endpoints: server.endpoints, rootPassword: 'root secret' };
    await enableAuth(admin);
    await enableAuth(admin);
    await grantPrefix(admin, '/groups/g1/', 'node-a', 'node-a secret');
    await grantPrefix(admin, '/groups/g2/', 'node-b', 'node-b secret');
    const as = (prefix: string, username: string, password: string) => {
      const s = new EtcdStore({ endpoints: server.endpoints, prefix, auth: { username, password } });
      stores.push(s);
      return s;
    };
    const own = as('/groups/g1/', 'node-a', 'node-a secret');
    const held = await own.campaign('leader', 'node-a', 5);
    expect(held?.holder).toBe('node-a');
    await own.put('primary-position', '1');
    // The same node's credentials, aimed at another group and at the root of the keyspace.
    for (const prefix of ['/groups/g2/', '/']) {
      const stray = as(prefix, 'node-a', 'node-a secret');
      await expect(stray.campaign('leader', 'node-a', 5)).rejects.toThrow(/permission denied/);
      await expect(stray.put('leader', 'node-a')).rejects.toThrow(/permission denied/);
      await expect(stray.get('leader')).rejects.toThrow(/permission denied/);
    }
    const other = as('/groups/g2/', 'node-b', 'node-b secret');
    expect(await other.leader('leader')).toBeNull();
    expect(await other.campaign('leader', 'node-b', 5)).not.toBeNull();
    // Nor can it give itself more: users, roles and their grants are root's alone.
    const nodeClient = new Etcd3({ hosts: server.endpoints, auth: { username: 'node-a', password: 'node-a secret' } });
    try {
      await expect(
        nodeClient.role('prefix-node-a').grant({ permission: 'Readwrite', range: Range.prefix('/') }),
      ).rejects.toThrow(/permission denied/);
      await expect(nodeClient.user('node-a').addRole('root')).rejects.toThrow(/permission denied/);
      await expect(nodeClient.user('intruder').create('secret')).rejects.toThrow(/permission denied/);
    } finally {
      nodeClient.close();
    }
    await expect(as('/groups/g2/', 'node-a', 'node-a secret').get('leader')).rejects.toThrow(/permission denied/);
    await expect(as('/groups/g1/', 'intruder', 'secret').get('leader')).rejects.toThrow();
    // Nor tie a key of its own to another group's leader lease (to keep it alive, or to stand in its revoke): lease
    // ids are no secret.
    const bClient = new Etcd3({ hosts: server.endpoints, auth: { username: 'node-b', password: 'node-b secret' } });
    const aClient = new Etcd3({ hosts: server.endpoints, auth: { username: 'node-a', password: 'node-a secret' } });
    try {
      const bLease = bClient.lease(5, { autoKeepAlive: false });
      bLease.on('lost', () => undefined);
      await bLease.put('/groups/g2/run/members/node-b').value('1');
      const id = await bLease.grant();
      await expect(aClient.put('/groups/g1/run/borrowed').value('x').lease(id).exec()).rejects.toThrow(
        /permission denied/,
      );
      expect(await aClient.get('/groups/g1/run/borrowed').string()).toBeNull();
      expect(Number((await bLease.keepaliveOnce()).TTL)).toBeGreaterThan(0);
      await bLease.revoke();
      expect(await bClient.get('/groups/g2/run/members/node-b').string()).toBeNull();
    } finally {
      aClient.close();
      bClient.close();
    }
    // Without credentials, nothing at all.
    const anonymous = new EtcdStore({ endpoints: server.endpoints, prefix: '/groups/g1/' });
    stores.push(anonymous);
    await expect(anonymous.get('leader')).rejects.toThrow();
    await held?.resign();
  }, 30_000);
});
