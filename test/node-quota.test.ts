// 06.4: each node's share of the repository. A real agent, registered with the control plane and run from the config
// it issues, backs up through the dashboard's job queue into the control plane's storage API; a rogue node (the
// same node's credentials, in a test helper that signs its own requests) tries to go past its quotas directly.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { storageHttpServer } from './support/cluster';
import {
  listen,
  runBackupJob,
  startRegisteredAgent,
  stopControlPlaneParts,
  webhookSink,
} from './support/control-plane';
import { waitFor } from './support/wait';

process.env.LIFELINE_DATA_DIR = tempDir('node-quota');

const MiB = 2 ** 20;
let received: { type: string; [k: string]: unknown }[] = [];
/** Every status the storage API answered, in order. */
const statuses: number[] = [];

afterAll(stopControlPlaneParts);

describe('06.4 quotas: what a node may add to the repository, and how fast it may ask', () => {
  let nodeId: string;
  let sourceId: number;
  let files: string;
  let creds: { nodeId: string; secret: string };

  beforeAll(async () => {
    const { db } = await import('@/lib/db/client');
    const { plans, sources } = await import('@/lib/db/schema');
    const { agentStorage } = await import('@/lib/control/agent-storage');

    received = await webhookSink();
    process.env.LIFELINE_URL = await listen(
      storageHttpServer(async () => {
        const service = await agentStorage();
        return {
          handle: async (...args: Parameters<typeof service.handle>) => {
            const reply = await service.handle(...args);
            statuses.push(reply.status);
            return reply;
          },
        } as typeof service;
      }),
    );
    const started = await startRegisteredAgent('files-1');
    nodeId = started.nodeId;
    creds = started.credentials;
    const dir = started.dir;

    // 4 MiB that does not compress or deduplicate, on the node.
    files = path.join(dir, 'files');
    mkdirSync(files, { recursive: true });
    writeFileSync(path.join(files, 'photos.bin'), randomBytes(4 * MiB));
    writeFileSync(path.join(files, 'notes.txt'), 'the quarterly numbers\n');
    const plan = db().insert(plans).values({ name: 'files-1 plan', createdAt: Date.now() }).returning().get();
    sourceId = db()
      .insert(sources)
      .values({
        planId: plan.id,
        node: 'files-1',
        name: 'files',
        kind: 'directory',
        path: files,
        createdAt: Date.now(),
      })
      .returning()
      .get().id;
  }, 60_000);

  const backUp = () => runBackupJob(sourceId);

  /** The node's own repository, opened with the control plane's passphrase. */
  async function nodeRepository() {
    const { ensureRepository } = await import('@/lib/control/repository');
    const { nodeRepositoryLocation } = await import('@/lib/control/tenants');
    const { openRepository } = await import('@/lib/engine');
    const info = await ensureRepository();
    return openRepository(nodeRepositoryLocation(nodeId), readFileSync(info.passwordFile, 'utf8'));
  }

  async function chargedData(): Promise<number> {
    const { db } = await import('@/lib/db/client');
    const { nodeObjects } = await import('@/lib/db/schema');
    const { and, eq, like } = await import('drizzle-orm');
    return db()
      .select()
      .from(nodeObjects)
      .where(and(eq(nodeObjects.nodeId, nodeId), like(nodeObjects.name, '%/data/%')))
      .all()
      .reduce((n, o) => n + o.size, 0);
  }

  it('06.4 over its byte quota, the node’s backup fails with quota-exceeded, nothing of it is recorded, an alert is raised; raised, it backs up', async () => {
    const { setNodeQuota, nodeQuota } = await import('@/lib/control/node-quota');
    const { db } = await import('@/lib/db/client');
    const { nodeEvents } = await import('@/lib/db/schema');
    const { and, eq } = await import('drizzle-orm');
    const { runRestore, runVerify } = await import('@/lib/engine');
    setNodeQuota(nodeId, { bytes: 1 * MiB, objects: null, requestsPerMinute: null });

    const failed = await backUp();
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^quota-exceeded: this node has added .* of its 1\.0 MiB quota/);
    // Not one data byte past the limit was stored, and the repository holds nothing of the failed backup that
    // could be mistaken for it: no snapshot, no index entry without its pack.
    expect(await chargedData()).toBeLessThanOrEqual(1 * MiB);
    const repo = await nodeRepository();
    expect((await repo.listSnapshots()).filter((s) => s.source === 'files-1:files')).toEqual([]);
    expect((await runVerify(repo)).errors).toEqual([]);
    // Said on every channel and in the node's history.
    const alert = await waitFor(
      'the quota-exceeded alert',
      () => received.find((r) => r.type === 'quota-exceeded' && r.node === 'files-1'),
      20_000,
    );
    expect(alert.reason).toMatch(/1\.0 MiB quota/);
    expect(
      db()
        .select()
        .from(nodeEvents)
        .where(and(eq(nodeEvents.nodeId, nodeId), eq(nodeEvents.kind, 'quota-exceeded')))
        .all(),
    ).toHaveLength(1);

    // An admin raises the quota (back to the default): the next backup goes through and restores byte for byte.
    setNodeQuota(nodeId, { bytes: null, objects: null, requestsPerMinute: null });
    const done = await backUp();
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const target = tempDir('node-quota-restore');
    const after = await nodeRepository();
    await runRestore(after, { snapshot: await after.resolveSnapshot(done.snapshotId!), target });
    const restored = path.join(target, files.replace(/^\//, ''), 'photos.bin');
    expect(readFileSync(restored).equals(readFileSync(path.join(files, 'photos.bin')))).toBe(true);
    expect(nodeQuota(nodeId).used.bytes).toBeGreaterThan(4 * MiB);
  }, 180_000);

  it('06.4 over its object quota, a node’s upload is refused and not stored', async () => {
    const { setNodeQuota, nodeQuota } = await import('@/lib/control/node-quota');
    const { HttpStorage } = await import('@/lib/engine/nodes/http-storage');
    const { createHash } = await import('node:crypto');
    const rogue = new HttpStorage(process.env.LIFELINE_URL!, creds);
    setNodeQuota(nodeId, { bytes: null, objects: nodeQuota(nodeId).used.objects + 1, requestsPerMinute: null });
    const put = (bytes: Buffer) => {
      const name = `data/${createHash('sha256').update(bytes).digest('hex')}`;
      return { name, done: rogue.put(name, bytes, { exclusive: true }) };
    };
    const first = put(randomBytes(1000));
    await first.done;
    expect(await rogue.exists(first.name)).toBe(true);
    const second = put(randomBytes(1000));
    await expect(second.done).rejects.toMatchObject({ code: 'quota-exceeded' });
    await expect(second.done).rejects.toThrow(/its quota is \d+/);
    expect(await rogue.exists(second.name)).toBe(false);
    // The same bytes again cost nothing: they are there already.
    await rogue.put(first.name, await rogue.get(first.name), { exclusive: true });
    setNodeQuota(nodeId, { bytes: null, objects: null, requestsPerMinute: null });
  });

  it('06.4 over its request rate, a node is answered 429 and waits; forged requests in its name use up nothing', async () => {
    const { setNodeQuota } = await import('@/lib/control/node-quota');
    const { signedFetch, signRequest } = await import('@/lib/engine/nodes/signed-request');
    setNodeQuota(nodeId, { bytes: null, objects: null, requestsPerMinute: 120 });
    const list = '/api/agent/storage/snapshots?list=1';
    const ask = () => signedFetch(creds, process.env.LIFELINE_URL!, 'GET', list, { timeoutMs: 10_000 });
    // An attacker who knows the node's name but not its secret: every one refused, none counted.
    for (let i = 0; i < 200; i++) {
      const forged = await fetch(`${process.env.LIFELINE_URL}${list}`, {
        headers: signRequest({ nodeId, secret: 'f'.repeat(64) }, 'GET', list),
      });
      expect(forged.status).toBe(401);
      expect(await forged.text()).toMatch(/not authenticated \(signature\)/);
    }
    // The node itself: a minute's worth (120) at once, then 429 with the time to wait.
    const answers: number[] = [];
    let throttled: Awaited<ReturnType<typeof ask>> | null = null;
    const started = Date.now();
    while (!throttled) {
      const res = await ask();
      answers.push(res.status);
      if (res.status === 429) throttled = res;
    }
    // A full bucket (120), plus what refilled (2 a second) while the requests went out, and no more.
    const refilled = Math.ceil(((Date.now() - started) * 120) / 60_000);
    expect(answers.slice(0, -1).every((s) => s === 200)).toBe(true);
    expect(answers.length - 1).toBeGreaterThanOrEqual(120);
    expect(answers.length - 1).toBeLessThanOrEqual(120 + refilled);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // The agent, slowed down to a request a second (a backup makes more than a dozen), still gets its backup in:
    // it waits out each 429.
    setNodeQuota(nodeId, { bytes: null, objects: null, requestsPerMinute: 60 });
    writeFileSync(path.join(files, 'notes.txt'), 'the quarterly numbers, revised\n');
    const from = statuses.length;
    // Empty the bucket: bursts, so that a slow machine cannot refill it as fast as it is drained.
    while (!(await Promise.all(Array.from({ length: 50 }, ask))).some((r) => r.status === 429));
    const done = await backUp();
    expect(done.status).toBe('succeeded');
    expect(statuses.slice(from).filter((s) => s === 429).length).toBeGreaterThan(0);
    setNodeQuota(nodeId, { bytes: null, objects: null, requestsPerMinute: null });
  }, 120_000);

  it('06.4 what a prune removes no longer counts against the node', async () => {
    const { nodeQuota, forgetGoneObjects } = await import('@/lib/control/node-quota');
    const { runPrune } = await import('@/lib/engine');
    const before = nodeQuota(nodeId).used;
    expect(before.bytes).toBeGreaterThan(4 * MiB);
    // Every snapshot of the node's source forgotten (as its retention would, in time), then a prune.
    const repo = await nodeRepository();
    for (const s of await repo.listSnapshots())
      if (s.source === 'files-1:files') await repo.storage.delete(`snapshots/${s.id}`);
    await runPrune(repo);
    expect(await forgetGoneObjects(Date.now() + 1)).toBeGreaterThan(0);
    expect(nodeQuota(nodeId).used.bytes).toBeLessThan(before.bytes - 4 * MiB);
  }, 60_000);

  it('06.5 a node’s backups failing three times in a row raise one alert, shown on the node, and their return another', async () => {
    const { setNodeQuota } = await import('@/lib/control/node-quota');
    const { db } = await import('@/lib/db/client');
    const { nodeEvents } = await import('@/lib/db/schema');
    const { and, eq, inArray } = await import('drizzle-orm');
    const alerts = () => received.filter((r) => r.type === 'node-backups-failing' && r.node === 'files-1');
    const events = () =>
      db()
        .select()
        .from(nodeEvents)
        .where(and(eq(nodeEvents.nodeId, nodeId), inArray(nodeEvents.kind, ['backups-failing', 'backups-resumed'])))
        .all()
        .map((e) => e.kind);
    setNodeQuota(nodeId, { bytes: 1 * MiB, objects: null, requestsPerMinute: null });
    // The first test's failure came before a success: this streak starts now.
    for (let i = 1; i <= 4; i++) {
      const job = await backUp();
      expect(job.status).toBe('failed');
      if (i < 3) expect(events()).toEqual([]);
    }
    expect(events()).toEqual(['backups-failing']);
    const alert = await waitFor('the backups-failing alert', () => alerts()[0], 20_000);
    expect(alert.failures).toBe(3);
    expect(alert.error).toMatch(/^quota-exceeded/);

    setNodeQuota(nodeId, { bytes: null, objects: null, requestsPerMinute: null });
    expect((await backUp()).status).toBe('succeeded');
    expect(events()).toEqual(['backups-failing', 'backups-resumed']);
    await waitFor(
      'the backups-resumed alert',
      () => received.find((r) => r.type === 'node-backups-resumed' && r.node === 'files-1'),
      20_000,
    );
    expect(alerts()).toHaveLength(1);
  }, 240_000);
});
