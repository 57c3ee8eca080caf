// 13.3 in the control plane on a real database and a real etcd with authentication on: etcd set up as the
// dashboard does it (a wrong address is refused and nothing kept), a running group moved there with no failover
// (same service process; shipping goes on, its snapshots checked against the leader key's token), and a failover
// that happens while the dashboard's side of the group is down, recorded with its RTO and RPO once it is back.
import type http from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '@/lib/engine/free-port';
import { probeHttp } from '@/lib/engine/nodes/health-probe';
import { startEtcd, stopEtcd } from '@/scripts/etcd.mjs';

import { tempDir } from './helpers';
import { storageHttpServer } from './support/cluster';
import {
  killAgent,
  listen,
  startRegisteredAgent,
  stopControlPlaneParts,
  webhookSink,
  type RegisteredAgent,
} from './support/control-plane';
import { waitFor } from './support/wait';

process.env.LIFELINE_DATA_DIR = tempDir('control-etcd');

const ROOT_PASSWORD = 'etcd root password for the test';

let server: Awaited<ReturnType<typeof startEtcd>>;
let storageServer: http.Server;
const started: RegisteredAgent[] = [];
let received: { type: string; [k: string]: unknown }[] = [];

afterAll(async () => {
  await stopControlPlaneParts();
  if (server) stopEtcd(server.dir);
});

describe('13.3 a group in the control plane moves to etcd', () => {
  let groupId: string;
  let endpointPort: number;

  beforeAll(async () => {
    const { agentStorage } = await import('@/lib/control/agent-storage');
    const { createFailoverGroup, startGroup } = await import('@/lib/control/failover');
    server = await startEtcd(tempDir('control-etcd-etcd'), 1);
    received = await webhookSink();
    storageServer = storageHttpServer(agentStorage);
    process.env.LIFELINE_URL = await listen(storageServer);
    for (const name of ['db-1', 'db-2']) started.push(await startRegisteredAgent(name));
    endpointPort = await freePort();
    const group = createFailoverGroup({
      name: 'db',
      endpointHost: '127.0.0.1',
      endpointPort,
      shippingIntervalMs: 1000,
      memberIds: started.map((a) => a.nodeId),
      // Whole copies on etcd, checked against the key's token (log replication: test/log-replication.test.ts).
      replication: 'copies',
    });
    groupId = group.id;
    await startGroup(group.id);
  }, 90_000);

  const group = async () => {
    const { db } = await import('@/lib/db/client');
    const { failoverGroups } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    return db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get()!;
  };

  const agentOf = async (nodeId: string) => {
    const { AgentClient } = await import('@/lib/engine/nodes/agent-client');
    const { db } = await import('@/lib/db/client');
    const { nodes } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const node = db().select().from(nodes).where(eq(nodes.id, nodeId)).get()!;
    return new AgentClient(node.agentUrl, { nodeId, secret: node.secret });
  };

  it('13.3 etcd is kept only once it answers; a running group moves there with no failover, and ships on under the key’s token', async () => {
    const { etcdControl, saveEtcdSettings, etcdLeader } = await import('@/lib/control/etcd');
    const { migrateToEtcd } = await import('@/lib/control/failover');
    const unused = await freePort();
    const refused = await saveEtcdSettings({
      endpoints: [`http://127.0.0.1:${unused}`],
      root: '/lifeline/',
      rootPassword: null,
    });
    expect(refused.ok).toBe(false);
    expect(etcdControl()).toBeNull();
    expect(await migrateToEtcd(await group())).toEqual({
      ok: false,
      error: 'Set up etcd first (Settings → Coordination).',
    });
    expect(
      await saveEtcdSettings({ endpoints: server.endpoints, root: '/lifeline/', rootPassword: ROOT_PASSWORD }),
    ).toEqual({ ok: true });

    const before = await waitFor('a primary', async () => (await group()).primaryNodeId, 30_000);
    const primary = await agentOf(before);
    const pid = (await primary.status()).service.pid;
    expect(pid).not.toBeNull();
    expect(await migrateToEtcd(await group())).toEqual({ ok: true });
    expect((await group()).coordination).toBe('etcd');
    const leader = await etcdLeader(groupId);
    expect(leader?.nodeId).toBe(before);
    const status = await primary.status();
    expect(status.coordination).toBe('etcd');
    expect(status.service.pid).toBe(pid);
    expect(status.epoch).toBe(leader!.epoch);
    // Shipping goes on: the storage API takes the primary's data under the key's token.
    const shippedAfter = Date.now();
    await waitFor(
      'a ship under the new epoch',
      async () => {
        const s = await primary.status();
        return (s.data.lastShipAt ?? 0) > shippedAfter && s.data.lastError === null;
      },
      30_000,
    );
    await waitFor(
      'the endpoint to follow the key',
      async () => (await probeHttp(`http://127.0.0.1:${endpointPort}/health`, 1000)).ok,
      20_000,
    );
    // The dashboard follows the key for its tiles.
    expect((await group()).primaryNodeId).toBe(before);
  }, 90_000);

  it('13.3 and 15.4 a failover while the dashboard’s side is down is made by the members, and recorded with its RTO and RPO (and how old each part of the data was) when it is back', async () => {
    const { etcdLeader } = await import('@/lib/control/etcd');
    const { startGroup, stopGroup } = await import('@/lib/control/failover');
    const { db } = await import('@/lib/db/client');
    const { failoverEvents } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const old = (await group()).primaryNodeId!;
    const standby = started.find((a) => a.nodeId !== old)!;
    const eventsBefore = db().select().from(failoverEvents).where(eq(failoverEvents.groupId, groupId)).all().length;
    await stopGroup(groupId);
    const crashedAt = Date.now();
    process.kill((await (await agentOf(old)).status()).service.pid!, 'SIGKILL');
    await waitFor(
      'the standby to take the key',
      async () => (await etcdLeader(groupId))?.nodeId === standby.nodeId,
      30_000,
    );
    await waitFor(
      'the endpoint to serve again',
      async () => (await probeHttp(`http://127.0.0.1:${endpointPort}/health`, 1000)).ok,
      20_000,
    );
    expect(db().select().from(failoverEvents).where(eq(failoverEvents.groupId, groupId)).all()).toHaveLength(
      eventsBefore,
    );
    await startGroup(groupId);
    const event = await waitFor(
      'the failover to be recorded',
      () =>
        db()
          .select()
          .from(failoverEvents)
          .where(eq(failoverEvents.groupId, groupId))
          .all()
          .find((e) => e.toNodeId === standby.nodeId && e.etcdToken !== null),
      20_000,
    );
    expect(event.kind).toBe('failover');
    expect(event.fromNodeId).toBe(old);
    expect(event.reason).toMatch(/service failed/);
    expect(event.outageStartedAt).toBeGreaterThanOrEqual(crashedAt);
    expect(event.rtoMs).toBeGreaterThanOrEqual(0);
    expect(event.rtoMs).toBeLessThan(30_000);
    expect(event.rpoMs).not.toBeNull();
    // 15.4 How old each part of the data was, as the new primary said (these agents ship one database).
    const parts = JSON.parse(event.dataParts!) as { part: string; ageMs: number | null }[];
    expect(parts.map((p) => p.part)).toEqual(['notes.db']);
    expect(parts[0].ageMs).toBe(event.rpoMs);
    await waitFor(
      'the tiles to name the new primary',
      async () => (await group()).primaryNodeId === standby.nodeId,
      20_000,
    );
    // Read again: recorded once.
    const { importHistory } = await import('@/lib/control/etcd');
    expect(await importHistory(await group())).toBe(0);
  }, 90_000);

  it('13.3 a switchover on etcd is asked of the members and recorded with its RTO; one to a node outside the group is refused', async () => {
    const { switchover } = await import('@/lib/control/failover');
    const { etcdLeader } = await import('@/lib/control/etcd');
    const { db } = await import('@/lib/db/client');
    const { failoverEvents } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const from = await waitFor('the tiles to name a primary', async () => (await group()).primaryNodeId, 20_000);
    // The old primary of the test before must be a standby with data before it can take over.
    const to = started.find((a) => a.nodeId !== from)!.nodeId;
    await waitFor(
      'the other node to hold data',
      async () => (await (await agentOf(to)).status()).data.dataTime,
      30_000,
    );
    const refused = await switchover(groupId, 'node-000000000000');
    expect(refused?.ok).toBe(false);
    expect(refused?.error).toMatch(/not a live member/);
    const record = await switchover(groupId, to);
    expect(record?.error).toBeUndefined();
    expect(record?.ok).toBe(true);
    expect((await etcdLeader(groupId))?.nodeId).toBe(to);
    const event = db()
      .select()
      .from(failoverEvents)
      .where(eq(failoverEvents.groupId, groupId))
      .all()
      .find((e) => e.kind === 'switchover' && e.toNodeId === to);
    expect(event?.fromNodeId).toBe(from);
    expect(event?.rtoMs).toBe(record?.rtoMs);
    expect(event?.rpoMs).toBe(0);
  }, 120_000);

  it('13.3 a drill on etcd is an intention: the standby runs it and writes its result, which the dashboard records; the primary refuses one; one that ends while the dashboard’s side is down is recorded once it is back', async () => {
    const { runDrill, startGroup, stopGroup } = await import('@/lib/control/failover');
    const { drillOnEtcd, etcdControl, etcdLeader, importDrills } = await import('@/lib/control/etcd');
    const { EtcdStore } = await import('@/lib/engine/coordination/etcd-store');
    const { DRILLS_PREFIX, groupPrefix } = await import('@/lib/engine/coordination/group-keys');
    const { db } = await import('@/lib/db/client');
    const { drills } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    // The holder of the key, once the tiles name it too (the dashboard picks a standby from what they show).
    const primary = await waitFor(
      'the tiles to name the holder of the key',
      async () => {
        const holder = (await etcdLeader(groupId))?.nodeId;
        return holder && (await group()).primaryNodeId === holder && holder;
      },
      20_000,
    );
    const standby = started.find((a) => a.nodeId !== primary)!.nodeId;
    await waitFor(
      'the standby to hold data',
      async () => (await (await agentOf(standby)).status()).data.dataTime,
      30_000,
    );
    const rows = () => db().select().from(drills).where(eq(drills.groupId, groupId)).all();
    const before = rows().length;

    const result = await runDrill(groupId, standby);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    const recorded = rows().slice(before);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ nodeId: standby, ok: true, error: null });
    expect(recorded[0].intentId).toMatch(/^[0-9a-f]{16}$/);
    expect(recorded[0].timeToReadyMs).toBeGreaterThan(0);
    expect((await group()).restoreTestedAt).toBeGreaterThanOrEqual(recorded[0].startedAt);
    // The primary, named in an intention, refuses: its service is the one that serves.
    const refused = await drillOnEtcd(await group(), primary);
    expect(refused).toMatchObject({ nodeId: primary, ok: false, error: expect.stringMatching(/serves as primary/) });

    // Asked, then the dashboard's side goes down before the result: it is recorded when the group starts again.
    const control = etcdControl()!;
    const store = new EtcdStore({
      endpoints: control.endpoints,
      prefix: groupPrefix(control.root, groupId),
      auth: { username: 'root', password: control.rootPassword! },
    });
    try {
      const known = new Set((await store.list(DRILLS_PREFIX)).keys());
      const pending = await drillOnEtcd(await group(), standby, 0);
      expect(pending).toHaveProperty('pending');
      await stopGroup(groupId);
      await waitFor(
        'the standby to write its result',
        async () => [...(await store.list(DRILLS_PREFIX)).keys()].some((id) => !known.has(id)),
        60_000,
      );
      const count = rows().length;
      await startGroup(groupId);
      await waitFor('the drill to be recorded', () => rows().length === count + 1, 20_000);
      expect(rows().at(-1)).toMatchObject({ nodeId: standby, ok: true });
      // Read again: recorded once.
      expect(await importDrills(await group())).toBe(0);
    } finally {
      store.close();
    }
  }, 150_000);

  it('13.7 timings saved for a running group on etcd reach both members with no failover; the primary keeps its lease’s TTL until its next leadership', async () => {
    const { saveGroupTimings, switchover } = await import('@/lib/control/failover');
    const { etcdLeader } = await import('@/lib/control/etcd');
    const before = (await etcdLeader(groupId))!;
    const primary = await agentOf(before.nodeId);
    const standbyId = started.find((a) => a.nodeId !== before.nodeId)!.nodeId;
    const standby = await agentOf(standbyId);
    const leaseTtl = (await primary.status()).timings!.ttlSeconds;
    expect(leaseTtl).not.toBe(9);
    const saved = await saveGroupTimings(groupId, {
      leaseMs: 9000,
      renewMs: 1500,
      downAfter: 4,
      probeIntervalMs: 700,
      maxLagMs: 20_000,
    });
    expect(saved.ok).toBe(true);
    const wanted = { ttlSeconds: 9, renewMs: 1500, downAfter: 4, probeIntervalMs: 700, maxLagMs: 20_000 };
    await waitFor(
      'the standby to apply the new timings',
      async () => JSON.stringify((await standby.status()).timings) === JSON.stringify(wanted),
      20_000,
    );
    await waitFor(
      'the primary to apply them, but its lease’s TTL',
      async () => {
        const t = (await primary.status()).timings!;
        return t.renewMs === 1500 && t.downAfter === 4 && t.probeIntervalMs === 700 && t.ttlSeconds === leaseTtl;
      },
      20_000,
    );
    expect(await etcdLeader(groupId)).toEqual(before);
    // Its next leadership (a switchover back) runs on the new TTL.
    expect((await switchover(groupId, standbyId))?.ok).toBe(true);
    expect((await standby.status()).timings).toEqual(wanted);
    expect((await saveGroupTimings('group-000000000000', wanted as never)).ok).toBe(false);
  }, 120_000);

  it('13.1 the storage API takes a ship only from the holder of the leader key, tagged with the epoch of its token: the standby’s, and the holder’s of an older epoch, are refused and nothing is written', async () => {
    const { Repository } = await import('@/lib/engine/repository/repository');
    const { HttpStorage } = await import('@/lib/engine/nodes/http-storage');
    const { groupRepositoryPassword } = await import('@/lib/engine/nodes/tenants');
    const { etcdLeader } = await import('@/lib/control/etcd');
    const { key, epoch, holder, standby } = await (async () => {
      const leader = (await etcdLeader(groupId))!;
      return {
        key: (await group()).groupKey,
        epoch: leader.epoch,
        holder: started.find((a) => a.nodeId === leader.nodeId)!,
        standby: started.find((a) => a.nodeId !== leader.nodeId)!,
      };
    })();
    const open = (as: RegisteredAgent) =>
      Repository.open(
        new HttpStorage(process.env.LIFELINE_URL!, as.credentials, groupId),
        groupRepositoryPassword(key),
        { lockOwner: as.nodeId },
      );
    /** The snapshots in the group's repository made here (host "h"; the agents ship on meanwhile). */
    const forgedHere = async () => {
      const repo = await open(holder);
      const ids = (await repo.storage.list('snapshots')).map((n) => n.name);
      const all = await Promise.all(ids.map(async (id) => ({ id, host: (await repo.readSnapshot(id)).host })));
      return all.filter((s) => s.host === 'h').map((s) => s.id);
    };
    const ship = async (as: RegisteredAgent, shipEpoch: number) => {
      const repo = await open(as);
      const lock = await repo.lock({ exclusive: false, operation: 'ship' });
      const now = new Date().toISOString();
      try {
        return await repo.saveSnapshot(
          {
            time: now,
            host: 'h',
            source: `ship:${groupId}`,
            paths: [],
            tags: ['ship', `epoch:${shipEpoch}`],
            tree: '0'.repeat(64),
            summary: {
              ...{ files: 0, dirs: 0, bytes: 0, filesRead: 0, newBytes: 0, newBlobs: 0, skipped: 0 },
              ...{ startedAt: now, endedAt: now, durationMs: 0 },
            },
            warnings: [],
          },
          lock.name,
        );
      } finally {
        await lock.release();
      }
    };
    await expect(ship(standby, epoch)).rejects.toThrow(/may not write snapshots/);
    await expect(ship(holder, epoch - 1)).rejects.toThrow(/may not write snapshots/);
    // Nothing was written (the holder's own ships under its token go on being taken: the first test checks them).
    expect(await forgedHere()).toEqual([]);
  }, 60_000);

  it('09.4 on etcd, a standby’s rotated credentials give the group a new key sealed for each member, and its etcd user a new password (the old one is refused): the primary ships with the new key and the standby, on its new config, applies it', async () => {
    const { rotateNodeCredentials } = await import('@/lib/control/node-registry');
    const { rekeyGroupsOf } = await import('@/lib/control/failover');
    const { etcdLeader } = await import('@/lib/control/etcd');
    const { restartRegisteredAgent } = await import('./support/control-plane');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const leader = (await etcdLeader(groupId))!;
    const standby = started.find((a) => a.nodeId !== leader.nodeId)!;
    const { rotateNodeEtcdUser, etcdControl } = await import('@/lib/control/etcd');
    const { EtcdStore } = await import('@/lib/engine/coordination/etcd-store');
    const { nodePrefix } = await import('@/lib/engine/coordination/group-keys');
    const path = await import('node:path');
    // The etcd user the move gave it, as its agent keeps it.
    const old = JSON.parse(readFileSync(path.join(standby.dir, 'agent', 'agent-state.json'), 'utf8')).etcd as {
      username: string;
      password: string;
    };
    const { credentials } = await rotateNodeCredentials(standby.nodeId);
    await rekeyGroupsOf(standby.nodeId);
    const etcd = (await rotateNodeEtcdUser(standby.nodeId))!;
    expect(etcd.username).toBe(old.username);
    const asNode = (password: string) =>
      new EtcdStore({
        endpoints: etcdControl()!.endpoints,
        prefix: nodePrefix(etcdControl()!.root, standby.nodeId),
        auth: { username: etcd.username, password },
      });
    // The old password opens nothing any more; the one in the new config does.
    const refused = asNode(old.password);
    await expect(refused.get('group')).rejects.toThrow();
    refused.close();
    const allowed = asNode(etcd.password);
    expect(await allowed.get('group')).toBe(groupId);
    allowed.close();
    writeFileSync(
      standby.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(standby.configFile, 'utf8')), secret: credentials.secret, etcd }),
      { mode: 0o600 },
    );
    await restartRegisteredAgent(standby);
    const rotatedAt = Date.now();
    await waitFor(
      'the standby to apply what the primary shipped with the new key',
      async () => ((await (await agentOf(standby.nodeId)).status()).data.dataTime ?? 0) > rotatedAt,
      30_000,
    );
    await waitFor(
      'the primary to ship without an error',
      async () => (await (await agentOf(leader.nodeId)).status()).data.lastError === null,
      20_000,
    );
    expect(await etcdLeader(groupId)).toEqual(leader);
  }, 90_000);

  it('13.1 when nobody holds a group’s key and every standby said why it may not take it, an admin is alerted once, with the reasons', async () => {
    const { checkCandidates, etcdControl } = await import('@/lib/control/etcd');
    const { EtcdStore } = await import('@/lib/engine/coordination/etcd-store');
    const { groupPrefix, NO_CANDIDATE_PREFIX } = await import('@/lib/engine/coordination/group-keys');
    const { db } = await import('@/lib/db/client');
    const { failoverGroups } = await import('@/lib/db/schema');
    // A group of its own on etcd, with nobody holding its key; a member says why it will not take it, as agents do.
    const ghost = { ...db().select().from(failoverGroups).get()!, id: 'group-0000000000aa', name: 'ghost' };
    const control = etcdControl()!;
    const store = new EtcdStore({
      endpoints: control.endpoints,
      prefix: groupPrefix(control.root, ghost.id),
      auth: { username: 'root', password: control.rootPassword! },
    });
    try {
      expect(await checkCandidates(ghost)).toBeNull();
      const why = 'db-2 is 90000 behind the primary’s last position, more than the group’s maximum lag of 30000';
      await store.put(`${NO_CANDIDATE_PREFIX}${started[1].nodeId}`, JSON.stringify({ why, at: Date.now() }));
      expect(await checkCandidates(ghost)).toEqual([`db-2: ${why}`]);
      const alert = await waitFor(
        'the alert',
        () => received.find((n) => n.type === 'no-failover' && n.group === 'ghost'),
        10_000,
      );
      expect(alert.reasons).toEqual([`db-2: ${why}`]);
      // Said again, not alerted again (one per group every ten minutes).
      expect(await checkCandidates(ghost)).toEqual([`db-2: ${why}`]);
      await waitFor(
        'the deliveries to settle',
        async () => {
          const { deliveries } = await import('@/lib/db/schema');
          return db()
            .select()
            .from(deliveries)
            .all()
            .every((d) => d.status !== 'pending');
        },
        10_000,
      );
      expect(received.filter((n) => n.type === 'no-failover' && n.group === 'ghost')).toHaveLength(1);
    } finally {
      store.close();
    }
  }, 60_000);

  it('15.3 a running group on etcd turns to synchronous log replication with no failover: its standby is named synchronous; with the standby’s agent gone the group degrades and an admin is alerted, and again when it is back', async () => {
    const { saveGroupReplication } = await import('@/lib/control/failover');
    const { etcdLeader } = await import('@/lib/control/etcd');
    const { restartRegisteredAgent } = await import('./support/control-plane');
    const { write } = await import('./support/notes-client');
    const { PRIMARY_POSITION_KEY, groupPrefix } = await import('@/lib/engine/coordination/group-keys');
    const { EtcdStore } = await import('@/lib/engine/coordination/etcd-store');
    const { etcdControl } = await import('@/lib/control/etcd');
    const leader = (await etcdLeader(groupId))!;
    const standby = started.find((a) => a.nodeId !== leader.nodeId)!;
    const control = etcdControl()!;
    const store = new EtcdStore({
      endpoints: control.endpoints,
      prefix: groupPrefix(control.root, groupId),
      auth: { username: 'root', password: control.rootPassword! },
    });
    const named = async () =>
      (JSON.parse((await store.get(PRIMARY_POSITION_KEY)) ?? '{}') as { synchronous?: string | null }).synchronous;
    const load = { seq: 100_000, acked: 0, stop: false };
    const writing = (async () => {
      while (!load.stop) if (await write(`http://127.0.0.1:${endpointPort}`, ++load.seq)) load.acked++;
    })();
    try {
      const saved = await saveGroupReplication(groupId, {
        replication: 'log',
        baseIntervalHours: 6,
        synchronous: 'on',
        synchronousTimeoutMs: 1000,
      });
      expect(saved.ok).toBe(true);
      await waitFor('the standby to be named synchronous', async () => (await named()) === standby.nodeId, 60_000);
      // No failover: the same leadership throughout.
      expect(await etcdLeader(groupId)).toEqual(leader);

      killAgent(standby);
      await waitFor('the group to degrade to asynchronous', async () => (await named()) === null, 30_000);
      const degraded = await waitFor(
        'the alert',
        () => received.find((n) => n.type === 'synchronous-degraded'),
        20_000,
      );
      expect(degraded.group).toBe('db');
      const ackedThen = load.acked;
      await waitFor('writes answered without a standby', () => load.acked > ackedThen + 10, 20_000);

      await restartRegisteredAgent(standby);
      await waitFor('the standby to be named again', async () => (await named()) === standby.nodeId, 60_000);
      await waitFor(
        'the alert that it is synchronous again',
        () => received.find((n) => n.type === 'synchronous-restored'),
        20_000,
      );
    } finally {
      load.stop = true;
      await writing;
      store.close();
    }
  }, 180_000);
});
