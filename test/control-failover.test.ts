// The control plane's side of failover on a real database: nodes registered with their own repository keys,
// agents run from the configs it issues, a group started with a write load, and a crash of the primary recorded
// as an event (timeline, RTO, RPO, lost writes), as node events, and as a notification.
import type http from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { freePort } from '@/lib/engine/free-port';
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

process.env.LIFELINE_DATA_DIR = tempDir('control-failover');

let received: { type: string; [k: string]: unknown }[] = [];
const started: RegisteredAgent[] = [];
let storageServer: http.Server;
const credentialsOf = new Map<string, RegisteredAgent['credentials']>();

afterAll(async () => {
  await stopControlPlaneParts();
});

describe('failover in the control plane', () => {
  let groupId: string;

  beforeAll(async () => {
    const { agentStorage } = await import('@/lib/control/agent-storage');
    const { createFailoverGroup, startGroup } = await import('@/lib/control/failover');
    const { WriteLoad } = await import('@/lib/demo/write-load');

    // Where notifications go, and the storage API as the dashboard's route serves it.
    received = await webhookSink();
    storageServer = storageHttpServer(agentStorage);
    process.env.LIFELINE_URL = await listen(storageServer);

    for (const name of ['web-1', 'web-2']) {
      const agent = await startRegisteredAgent(name);
      started.push(agent);
      credentialsOf.set(name, agent.credentials);
    }
    const ids = started.map((a) => a.nodeId);
    const endpointPort = await freePort();
    const group = createFailoverGroup({
      name: 'web',
      endpointHost: '127.0.0.1',
      endpointPort,
      shippingIntervalMs: 1000,
      memberIds: ids,
    });
    groupId = group.id;
    const load = new WriteLoad(`http://127.0.0.1:${endpointPort}`, { intervalMs: 50 });
    await startGroup(group.id, load);
    load.start();
  }, 60_000);

  it('starts the group: the first member is promoted and its epoch stored', async () => {
    const { db } = await import('@/lib/db/client');
    const { failoverGroups, nodes } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const group = await waitFor(
      'a primary',
      () => {
        const g = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get();
        return g?.primaryNodeId ? g : null;
      },
      30_000,
    );
    expect(db().select().from(nodes).where(eq(nodes.id, group.primaryNodeId!)).get()?.name).toBe('web-1');
    expect(group.epoch).toBe(1);
    expect(group.reservedEpoch).toBe(1);
  });

  it('records a crash of the primary as a failover with its timeline, RTO, RPO and lost writes, and notifies', async () => {
    const { db } = await import('@/lib/db/client');
    const { failoverEvents, nodeEvents, failoverGroups } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const { liveNodes, primaryServicePid } = await import('@/lib/control/failover');
    // The standby holds shipped data before the crash.
    await waitFor(
      'shipped data on the standby',
      () => liveNodes(groupId).some((n) => !n.isGroupPrimary && n.dataTime !== null),
      30_000,
    );
    const target = (await primaryServicePid(groupId))!;
    process.kill(target.pid, 'SIGKILL');
    const event = await waitFor(
      'the failover event',
      () => db().select().from(failoverEvents).where(eq(failoverEvents.kind, 'failover')).get(),
      30_000,
    );
    expect(event.ok).toBe(true);
    expect(event.fromNodeId).toBe(target.nodeId);
    expect(event.rtoMs).toBeGreaterThan(0);
    expect(event.rpoMs).not.toBeNull();
    expect(event.lostWrites).not.toBeNull();
    expect(event.clientGapMs).toBeGreaterThan(0);
    expect(
      JSON.parse(event.timeline)
        .map((s: { step: string }) => s.step)
        .join('\n'),
    ).toMatch(/exited[\s\S]*fenced[\s\S]*promoted[\s\S]*first good request/);
    const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get()!;
    expect(group.primaryNodeId).toBe(event.toNodeId);
    expect(group.epoch).toBe(2);
    const kinds = db()
      .select()
      .from(nodeEvents)
      .all()
      .map((e) => `${e.nodeId === target.nodeId ? 'old' : 'new'}:${e.kind}`);
    expect(kinds).toEqual(expect.arrayContaining(['old:fenced', 'new:promoted']));
    const note = await waitFor('the failover notification', () => received.find((r) => r.type === 'failover'), 30_000);
    expect(note).toMatchObject({ group: 'web', fromNode: 'web-1', toNode: 'web-2', ok: true });
  });

  it('05.1 keeps only the newest shipped snapshots while shipping goes on, and none of them in the snapshot list', async () => {
    const { repositoryInfo } = await import('@/lib/control/repository');
    const { refreshSnapshots } = await import('@/lib/control/snapshot-cache');
    const { SHIPS_KEPT, trimShippedSnapshots } = await import('@/lib/control/ship-retention');
    const { db } = await import('@/lib/db/client');
    const { snapshots } = await import('@/lib/db/schema');
    const { openRepository } = await import('@/lib/engine');
    const { readFileSync } = await import('node:fs');
    const { groupRepositoryLocation } = await import('@/lib/control/tenants');
    const repo = repositoryInfo()!;
    // The group's own repository, opened with the control plane's passphrase.
    const shipped = async () =>
      (
        await (
          await openRepository(groupRepositoryLocation(groupId), readFileSync(repo.passwordFile, 'utf8'))
        ).listSnapshots()
      ).filter((s) => s.source === `ship:${groupId}`);
    const before = await waitFor(
      `more than ${SHIPS_KEPT} shipped snapshots`,
      async () => {
        const list = await shipped();
        return list.length > SHIPS_KEPT && list;
      },
      60_000,
    );
    await trimShippedSnapshots(groupId);
    // Shipping goes on meanwhile (every second here), so how many remain depends on the machine's speed. What
    // holds: of the snapshots that existed before the trim, none older than the newest kept ones is left (the
    // trim may have seen newer ships too, and then kept even fewer of these).
    const newestBefore = new Set(before.slice(-SHIPS_KEPT).map((s) => s.id));
    const existedBefore = new Set(before.map((s) => s.id));
    const stale = (await shipped()).filter((s) => existedBefore.has(s.id) && !newestBefore.has(s.id));
    expect(stale.map((s) => s.time)).toEqual([]);
    await refreshSnapshots(repo);
    expect(
      db()
        .select()
        .from(snapshots)
        .all()
        .filter((s) => s.sourceKey.startsWith('ship:')),
    ).toEqual([]);
  }, 120_000);

  it('refuses a snapshot a node sends for another node’s source or for a group it is not primary of', async () => {
    const { HttpStorage } = await import('@/lib/engine/nodes/http-storage');
    const { Repository } = await import('@/lib/engine/repository/repository');
    const { groupRepositoryPassword, nodeRepositoryPassword } = await import('@/lib/engine/nodes/tenants');
    const { db } = await import('@/lib/db/client');
    const { failoverGroups } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get()!;
    // web-1 was fenced in the failover: it is the standby now.
    const creds = credentialsOf.get('web-1')!;
    const open = (inGroup?: string) =>
      Repository.open(
        new HttpStorage(process.env.LIFELINE_URL!, creds, inGroup),
        inGroup ? groupRepositoryPassword(group.groupKey) : nodeRepositoryPassword(creds.secret),
        { lockOwner: creds.nodeId },
      );
    // Its own repository, and its group's (whose key every member holds).
    const repo = await open();
    const groupRepo = await open(groupId);
    // Under a lock of its own, as a backup writes its snapshot (without one, any snapshot is refused: 07.8).
    const lock = await repo.lock({ exclusive: false, operation: 'backup' });
    const groupLock = await groupRepo.lock({ exclusive: false, operation: 'ship' });
    const summary = {
      files: 0,
      dirs: 0,
      bytes: 0,
      filesRead: 0,
      newBytes: 0,
      newBlobs: 0,
      skipped: 0,
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      durationMs: 0,
    };
    const forged = (source: string, tags: string[], time = new Date(), into = repo, under = lock) =>
      into.saveSnapshot(
        {
          time: time.toISOString(),
          host: 'h',
          source,
          paths: [],
          tags,
          tree: '0'.repeat(64),
          summary,
          warnings: [],
        },
        under.name,
      );
    await expect(forged('web-2:files', [])).rejects.toThrow(/may not write snapshots of web-2:files/);
    await expect(forged(`ship:${groupId}`, ['ship', `epoch:${group.epoch}`])).rejects.toThrow(/may not write/);
    // In the group's repository, only its primary writes, and only shipped data.
    await expect(
      forged(`ship:${groupId}`, ['ship', `epoch:${group.epoch}`], new Date(), groupRepo, groupLock),
    ).rejects.toThrow(/may not write/);
    await expect(forged('web-1:files', [], new Date(), groupRepo, groupLock)).rejects.toThrow(/may not write/);
    await groupLock.release();
    await expect(forged('web-1:files', [], new Date(Date.now() + 24 * 3600_000))).rejects.toThrow(/in the future/);
    await expect(forged('web-1:files', [])).resolves.toMatch(/^[0-9a-f]{64}$/);
    await lock.release();
    // Source keys begin with the node's name: the names that would reach shipped data or the dashboard's own
    // sources are not given to nodes.
    const { registerNode } = await import('@/lib/control/node-registry');
    for (const name of ['ship', 'local'])
      await expect(
        registerNode({ name, agentUrl: 'http://127.0.0.1:9', serviceHost: '127.0.0.1', servicePort: 9 }),
      ).rejects.toThrow(/reserved/);
  });

  it('06.1 refuses an index from a node that does not match the headers of the packs it lists, and alerts', async () => {
    const { HttpStorage } = await import('@/lib/engine/nodes/http-storage');
    const { Repository } = await import('@/lib/engine/repository/repository');
    const { encodeIndex } = await import('@/lib/engine/repository/index-file');
    const { createHash } = await import('node:crypto');
    // A rogue node: web-2's own credentials, its own signed requests, and the key every node holds.
    const { groupRepositoryPassword } = await import('@/lib/engine/nodes/tenants');
    const { db } = await import('@/lib/db/client');
    const { failoverGroups } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const { groupKey } = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get()!;
    const creds = credentialsOf.get('web-2')!;
    // In the group's repository, where the shipped data's packs are.
    const rogue = await Repository.open(
      new HttpStorage(process.env.LIFELINE_URL!, creds, groupId),
      groupRepositoryPassword(groupKey),
      { lockOwner: creds.nodeId },
    );
    const lock = await rogue.lock({ exclusive: false, operation: 'backup' });
    const pack = await waitFor('a pack in the repository', async () => (await rogue.storage.list('data'))[0], 30_000);
    const forged = encodeIndex(rogue.key.encryption, { supersedes: [], packs: [{ id: pack.name, blobs: [] }] });
    const name = `index/${createHash('sha256').update(forged).digest('hex')}`;
    await expect(rogue.storage.put(name, forged, { underLock: lock.name })).rejects.toThrow(
      /does not list what the header of pack/,
    );
    expect(await rogue.storage.exists(name)).toBe(false);
    await lock.release();
    const alert = await waitFor(
      'the refused upload’s alert',
      () => received.find((r) => r.type === 'node-refused' && r.object === name),
      10_000,
    );
    expect(alert).toMatchObject({ node: 'web-2', reason: expect.stringMatching(/header of pack/) });
  });

  it('06.6 refuses a group made of a node already in another group, clearly, and writes nothing', async () => {
    const { db } = await import('@/lib/db/client');
    const { failoverGroups, groupMembers, nodes } = await import('@/lib/db/schema');
    const { createFailoverGroup } = await import('@/lib/control/failover');
    const { registerNode } = await import('@/lib/control/node-registry');
    const { eq } = await import('drizzle-orm');
    const web2 = db().select().from(nodes).where(eq(nodes.name, 'web-2')).get()!;
    const { node: spare } = await registerNode({
      name: 'spare-1',
      agentUrl: 'http://127.0.0.1:9',
      serviceHost: '127.0.0.1',
      servicePort: 9,
    });
    const before = db().select().from(groupMembers).all();
    const group = (memberIds: string[]) => () =>
      createFailoverGroup({
        name: 'web-again',
        endpointHost: '127.0.0.1',
        endpointPort: 9,
        shippingIntervalMs: 5000,
        memberIds,
      });
    // A hand-sent form, or a stale page while another admin grouped web-2.
    expect(group([web2.id, spare.id])).toThrow(/web-2 is already in group web/);
    expect(group([spare.id, spare.id])).toThrow(/listed twice/);
    expect(db().select().from(failoverGroups).where(eq(failoverGroups.name, 'web-again')).get()).toBeUndefined();
    expect(db().select().from(groupMembers).all()).toEqual(before);
  });

  it('06.5 a primary that ships nothing for three intervals raises one alert, shows it, and another when it ships again', async () => {
    const { liveNodes } = await import('@/lib/control/failover');
    const primary = () => liveNodes(groupId).find((n) => n.isGroupPrimary);
    const port = Number(new URL(process.env.LIFELINE_URL!).port);
    // web-2 is the primary since the failover. Alerts about it from here on are about this outage.
    const about = (type: string) => received.filter((r) => r.type === type && r.node === 'web-2');
    const before = { stalled: about('shipping-stalled').length, resumed: about('shipping-resumed').length };
    // The storage API goes away (a proxy in the way, a full disk): every ship fails from now on.
    const closed = new Promise((r) => storageServer.close(r));
    storageServer.closeAllConnections();
    await waitFor('the storage API to close', closed, 10_000);
    const stalled = await waitFor(
      'the shipping-stalled alert about web-2',
      () => about('shipping-stalled')[before.stalled],
      40_000,
    );
    expect(stalled).toMatchObject({ group: 'web', node: 'web-2' });
    expect(primary()?.shippingStalled).toBe(true);
    await new Promise<void>((r) => storageServer.listen(port, '127.0.0.1', () => r()));
    await waitFor('the shipping-resumed alert about web-2', () => about('shipping-resumed')[before.resumed], 40_000);
    await waitFor('the tile to clear', () => primary()?.shippingStalled === false, 10_000);
    // One alert for the one outage.
    expect(about('shipping-stalled')).toHaveLength(before.stalled + 1);
  }, 120_000);

  it('records a node whose agent stops answering as down, and notifies', async () => {
    const { db } = await import('@/lib/db/client');
    const { nodeEvents, nodes } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const web1 = db().select().from(nodes).where(eq(nodes.name, 'web-1')).get()!;
    // web-1 is the standby now: its agent goes away (like a machine that lost power).
    killAgent(started[0]);
    await waitFor(
      'web-1 down',
      () =>
        db()
          .select()
          .from(nodeEvents)
          .all()
          .find((e) => e.nodeId === web1.id && e.kind === 'down'),
      15_000,
    );
    const note = await waitFor(
      'the node-down notification',
      () => received.find((r) => r.type === 'node-down'),
      30_000,
    );
    expect(note).toMatchObject({ node: 'web-1' });
  });

  it('forgets the owners of node locks that are gone from the repository', async () => {
    const { db } = await import('@/lib/db/client');
    const { nodeLocks } = await import('@/lib/db/schema');
    const { forgetGoneLocks } = await import('@/lib/control/agent-storage');
    db()
      .insert(nodeLocks)
      .values({ name: `locks/${'cd'.repeat(16)}`, nodeId: 'n', createdAt: Date.now() })
      .run();
    await forgetGoneLocks();
    expect(
      db()
        .select()
        .from(nodeLocks)
        .all()
        .filter((l) => l.name === `locks/${'cd'.repeat(16)}`),
    ).toEqual([]);
  });

  it('keeps raw probe samples for an hour, then one row per node and minute', async () => {
    const { db } = await import('@/lib/db/client');
    const { nodeSamples, nodes } = await import('@/lib/db/schema');
    const { downsampleSamples, recentSamples } = await import('@/lib/control/node-samples');
    const node = db().select().from(nodes).all()[0];
    expect(recentSamples(node.id).length).toBeGreaterThan(0);
    const twoHoursAgo = Date.now() - 2 * 3600_000;
    const minute = Math.floor(twoHoursAgo / 60_000) * 60_000;
    for (let i = 0; i < 6; i++)
      db()
        .insert(nodeSamples)
        .values({ nodeId: node.id, at: minute + i * 5000, okProbes: i < 4 ? 1 : 0, latencyMs: 10 })
        .run();
    downsampleSamples();
    const old = db()
      .select()
      .from(nodeSamples)
      .all()
      .filter((s) => s.nodeId === node.id && s.at < Date.now() - 3600_000);
    expect(old).toEqual([
      expect.objectContaining({ resolution: 'minute', at: minute, probes: 6, okProbes: 4, latencyMs: 10 }),
    ]);
  });

  it('16.5 a month of probes is drawn in at most 240 points: each holds the probes of its span, and a span where none was answered has no latency', async () => {
    const { db } = await import('@/lib/db/client');
    const { nodeSamples, nodes } = await import('@/lib/db/schema');
    const { samplesSince } = await import('@/lib/control/node-samples');
    const { and, eq, gte, sum } = await import('drizzle-orm');
    // A node of its own, which no group probes: the samples counted below are only the ones written here.
    const node = db()
      .insert(nodes)
      .values({
        id: 'node-chart-month',
        name: 'chart-month',
        agentUrl: 'http://127.0.0.1:9',
        secret: 'unused',
        serviceHost: '127.0.0.1',
        servicePort: 9,
        createdAt: Date.now(),
      })
      .returning()
      .get();
    const now = Date.now();
    const from = now - 30 * 24 * 3600_000;
    const span = Math.ceil((now - from) / 240);
    // A row a minute-row an hour, from a month ago to three hours ago; every fifth span of the chart unanswered.
    const down = (at: number) => Math.floor(at / span) % 5 === 0;
    for (let at = from + 60_000; at < now - 3 * 3600_000; at += 3600_000)
      db()
        .insert(nodeSamples)
        .values({
          nodeId: node.id,
          at,
          resolution: 'minute',
          probes: 60,
          okProbes: down(at) ? 0 : 60,
          latencyMs: down(at) ? null : 12,
        })
        .run();
    const points = samplesSince(node.id, from, now);
    expect(points.length).toBeLessThanOrEqual(241);
    expect(points.length).toBeGreaterThan(200);
    const stored = db()
      .select({ probes: sum(nodeSamples.probes) })
      .from(nodeSamples)
      .where(and(eq(nodeSamples.nodeId, node.id), gte(nodeSamples.at, from)))
      .get()!;
    expect(points.reduce((n, p) => n + p.probes, 0)).toBe(Number(stored.probes));
    const old = points.filter((p) => p.at < now - 4 * 3600_000);
    expect(old.filter((p) => down(p.at)).every((p) => p.okProbes === 0 && p.latencyMs === null)).toBe(true);
    expect(old.filter((p) => !down(p.at)).every((p) => p.okProbes > 0 && p.latencyMs === 12)).toBe(true);
    expect(old.some((p) => down(p.at))).toBe(true);
  });
});
