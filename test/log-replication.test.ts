// 15.1, 15.2 and 15.4 on a group that replicates its databases' log, every part real: agents (the CLI, with their
// watchdogs) guarding the notes service, a real etcd, the endpoint process, the storage API for the bases. The
// standby pulls the primary's frames from the primary's agent as they are written; each generation's base goes
// through the group's repository. A client writes through the endpoint all along and counts what was
// acknowledged: after a switchover, and after a crash of the primary's service, every acknowledged write is on
// the new primary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  DRILL_INTENT_KEY,
  DRILLS_PREFIX,
  type FailoverHistory,
  HISTORY_PREFIX,
  PRIMARY_POSITION_KEY,
  SWITCHOVER_INTENT_KEY,
} from '@/lib/engine/coordination/group-keys';
import type { AgentStatus } from '@/lib/engine/nodes/agent-protocol';
import { signRequest } from '@/lib/engine/nodes/signed-request';
import { pullFrames, WAL_PULL_PATH } from '@/lib/engine/replication/wal-peer';
import { startEtcd, stopEtcd } from '@/scripts/etcd.mjs';

import { tempDir } from './helpers';
import type { TestNode } from './support/cluster';
import { type EtcdCluster, startEtcdCluster } from './support/etcd-cluster';
import { takesKey, through, write } from './support/etcd-group';
import { waitFor } from './support/wait';

/** A client writing through the endpoint, one write at a time, noting each write the service acknowledged. */
function writer(url: string, firstSeq: number) {
  const load = { seq: firstSeq, acked: [] as number[], stop: false };
  const done = (async () => {
    while (!load.stop) {
      const seq = ++load.seq;
      if (await write(url, seq)) load.acked.push(seq);
    }
  })();
  return {
    acked: load.acked,
    async stop() {
      load.stop = true;
      await done;
    },
  };
}

/** How many of `seqs` the service behind `url` does not hold. */
async function missing(url: string, seqs: number[]): Promise<number> {
  const res = await through(url, '/writes/missing', { method: 'POST', body: JSON.stringify({ seqs }) });
  if (!res?.ok) throw new Error(`the service answered ${res?.status ?? 'nothing'}`);
  return ((await res.json()) as { missing: number }).missing;
}

/** The one database's replication on `node`, as its agent reports it. */
async function replicationOf(node: TestNode): Promise<NonNullable<AgentStatus['data']['replication']>[number]> {
  const status = await node.direct.status();
  const [db] = status.data.replication ?? [];
  if (!db) throw new Error(`${node.name} reports no log replication`);
  return db;
}

/** Waits until `node`'s copy holds everything its primary had committed by `time` (the primary's clock). */
function caughtUp(node: TestNode, time: number, timeoutMs = 30_000): Promise<true> {
  return waitFor(
    `${node.name} to hold what the primary committed by then`,
    async () => {
      const db = await replicationOf(node).catch(() => null);
      return db?.role === 'standby' && (db.caughtUpAt ?? 0) > time;
    },
    timeoutMs,
  );
}

describe('15.1 log replication between the agents', () => {
  let server: Awaited<ReturnType<typeof startEtcd>>;
  beforeAll(async () => {
    server = await startEtcd(tempDir('log-replication'), 1);
  }, 60_000);
  afterAll(() => {
    if (server) stopEtcd(server.dir);
  });

  async function logGroup(): Promise<{
    cluster: EtcdCluster;
    endpointUrl: string;
    primary: TestNode;
    standby: TestNode;
  }> {
    const cluster = await startEtcdCluster({ etcd: server.endpoints, settings: { replication: 'log' } });
    const endpoint = await cluster.startEndpoint();
    const first = await waitFor('a member to take the leader key', () => cluster.leader(), 20_000);
    const primary = cluster.nodeById(first.holder);
    const standby = cluster.nodes.find((n) => n !== primary)!;
    return { cluster, endpointUrl: endpoint.url, primary, standby };
  }

  it('15.1 the standby follows each write as it is made; a switchover, then a crash of the new primary’s service, lose no acknowledged write', async () => {
    const { cluster, endpointUrl, primary, standby } = await logGroup();
    const load = writer(endpointUrl, 0);
    try {
      await waitFor('writes through the endpoint', () => load.acked.length >= 20, 30_000);
      // The standby's copy comes from the primary's base (through the repository) and its frames (pulled).
      await caughtUp(standby, Date.now());
      const onStandby = await replicationOf(standby);
      const onPrimary = await replicationOf(primary);
      expect(onPrimary.role).toBe('primary');
      expect(onStandby.generation).toBe(onPrimary.generation);
      expect(onStandby.error).toBeNull();

      // The peer route, played by an attacker: without the group key nothing is answered; with it (a member), a
      // token that is not the primary's gets no frames; only the primary's own token does.
      const primaryAgent = `http://127.0.0.1:${primary.agentPort}`;
      const from = { generation: onPrimary.generation!, log: null, frame: 0, checksum: { s1: 0, s2: 0 } };
      const pull = { db: 'notes.db', from, token: 0 };
      const forged = JSON.stringify(pull);
      const refused = await fetch(`${primaryAgent}${WAL_PULL_PATH}`, {
        method: 'POST',
        headers: signRequest({ nodeId: standby.nodeId, secret: 'ab'.repeat(32) }, 'POST', WAL_PULL_PATH, forged),
        body: forged,
      });
      expect(refused.status).toBe(401);
      expect(await refused.text()).toMatch(/^not authenticated/);
      const member = { nodeId: standby.nodeId, groupKey: cluster.groupKey };
      const stale = await pullFrames(primaryAgent, member, pull);
      expect(stale.kind).toBe('not-primary');
      const token = Number((await cluster.leader())!.token) + cluster.settings.epochBase;
      expect((await pullFrames(primaryAgent, member, { ...pull, db: '../../etc/passwd', token })).kind).toBe(
        'base-needed',
      );

      // A DR drill on the standby restores the newest base from the repository and starts the service on it.
      const drill = { id: 'd1b2c3d4e5f60718', to: standby.nodeId, at: Date.now() };
      await cluster.store.put(DRILL_INTENT_KEY, JSON.stringify(drill));
      const drilled = await waitFor('the drill’s result', () => cluster.store.get(DRILLS_PREFIX + drill.id), 60_000);
      expect(JSON.parse(drilled)).toMatchObject({ node: standby.nodeId, ok: true });

      // 15.4 The other data paths go as copies, changes only: a file that did not change is left as it was.
      const files = (node: TestNode) => path.join(cluster.dir, node.name, 'service', 'attachments');
      mkdirSync(files(primary), { recursive: true });
      writeFileSync(path.join(files(primary), 'kept.txt'), 'unchanged\n');
      writeFileSync(path.join(files(primary), 'changed.txt'), 'first\n');
      await waitFor(
        'the attachments on the standby',
        () => existsSync(path.join(files(standby), 'changed.txt')),
        30_000,
      );
      const keptInode = statSync(path.join(files(standby), 'kept.txt')).ino;
      writeFileSync(path.join(files(primary), 'changed.txt'), 'second\n');
      writeFileSync(path.join(files(primary), 'added.txt'), 'added\n');
      // (A ship under way may have read the changed file before it changed: the next one has it.)
      await waitFor(
        'the changes on the standby',
        () =>
          existsSync(path.join(files(standby), 'added.txt')) &&
          readFileSync(path.join(files(standby), 'changed.txt'), 'utf8') === 'second\n',
        30_000,
      );
      expect(statSync(path.join(files(standby), 'kept.txt')).ino).toBe(keptInode);

      // A switchover: the primary stops, its log is read to the end, the standby pulls the last frames and serves.
      await cluster.store.put(
        SWITCHOVER_INTENT_KEY,
        JSON.stringify({ id: 'a1b2c3d4e5f60718', to: standby.nodeId, at: Date.now() }),
      );
      await takesKey(cluster, standby, 30_000);
      const ackedThen = load.acked.length;
      await waitFor('writes acknowledged by the new primary', () => load.acked.length > ackedThen + 20, 30_000);
      expect(await missing(endpointUrl, [...load.acked])).toBe(0);
      // The switchover's record says how old each part of the data was: the database to the last frame, the
      // attachments as of their last ship.
      const history = [...(await cluster.store.list(HISTORY_PREFIX)).values()]
        .map((text) => JSON.parse(text) as FailoverHistory)
        .find((h) => h.holder === standby.nodeId && h.cause === 'switchover');
      expect(history?.parts?.map((p) => p.part)).toEqual(['notes.db', 'attachments']);
      for (const part of history!.parts!) expect(part.dataTime).toBeGreaterThan(0);
      // The copy it serves was checked whole once promoted.
      await waitFor(
        'the promoted copy’s integrity_check',
        async () => (await replicationOf(standby)).integrity !== null,
        30_000,
      );
      expect((await replicationOf(standby)).integrity).toBe('ok');

      // The old primary follows the new one: a new generation, whose base it installs (keeping its own copy
      // aside), then the frames.
      await caughtUp(primary, Date.now());
      expect((await primary.direct.status()).data.kept).toHaveLength(1);

      // A crash of the new primary's service (its agent lives): the old primary takes over with every write.
      const servicePid = (await standby.direct.status()).service.pid!;
      process.kill(servicePid, 'SIGKILL');
      await takesKey(cluster, primary, 30_000);
      const ackedThen2 = load.acked.length;
      await waitFor('writes acknowledged after the crash', () => load.acked.length > ackedThen2 + 20, 30_000);
      await load.stop();
      expect(await missing(endpointUrl, [...load.acked])).toBe(0);
    } finally {
      await load.stop();
      await cluster.stop();
    }
  }, 180_000);

  it('15.3 and 15.5 a synchronous group answers a write only once its synchronous standby holds it: the primary’s whole node killed at random moments under load, five times, the standby takes over with every acknowledged write; with no standby answering, the group degrades to asynchronous and writes go on', async () => {
    const cluster = await startEtcdCluster({
      etcd: server.endpoints,
      settings: { replication: 'log', synchronous: 'on', synchronousTimeoutMs: 1500 },
    });
    const endpoint = await cluster.startEndpoint();
    const load = writer(endpoint.url, 0);
    /** The synchronous standby the primary last named, as the members read it on etcd. */
    const named = async () =>
      (JSON.parse((await cluster.store.get(PRIMARY_POSITION_KEY)) ?? '{}') as { synchronous?: string | null })
        .synchronous;
    try {
      for (let round = 1; round <= 5; round++) {
        const primary = cluster.nodeById((await waitFor('a primary', () => cluster.leader(), 30_000)).holder);
        const standby = cluster.nodes.find((n) => n !== primary)!;
        const before = load.acked.length;
        await waitFor('writes through the endpoint', () => load.acked.length >= before + 10, 30_000);
        await waitFor(
          `${standby.name} to be named synchronous`,
          async () => (await named()) === standby.nodeId,
          30_000,
        );
        // Killed at a moment of the load's choosing: its agent and its service at once, as a machine is lost.
        const pause = 200 + Math.floor(Math.random() * 1500);
        const since = load.acked.length;
        await waitFor(`${pause} ms more of writes`, () => load.acked.length > since + pause / 50, 30_000);
        const servicePid = (await primary.direct.status()).service.pid!;
        primary.process!.kill('SIGKILL');
        process.kill(servicePid, 'SIGKILL');
        await takesKey(cluster, standby, 30_000);
        const ackedThen = load.acked.length;
        await waitFor('writes acknowledged by the new primary', () => load.acked.length > ackedThen + 5, 30_000);
        expect(await missing(endpoint.url, [...load.acked])).toBe(0);
        // The lost node comes back as a standby, installs the new primary's base, and is named synchronous.
        await cluster.startAgent(primary);
      }

      // With its standby gone, the primary degrades to asynchronous within the bound, says so, and writes go on.
      const primary = cluster.nodeById((await cluster.leader())!.holder);
      const standby = cluster.nodes.find((n) => n !== primary)!;
      await waitFor(`${standby.name} to be named synchronous`, async () => (await named()) === standby.nodeId, 30_000);
      standby.process!.kill('SIGKILL');
      await waitFor('the group to degrade to asynchronous', async () => (await named()) === null, 30_000);
      const ackedThen = load.acked.length;
      await waitFor('writes acknowledged with no standby', () => load.acked.length > ackedThen + 20, 30_000);
    } finally {
      await load.stop();
      await cluster.stop();
    }
  }, 300_000);
});
