// 15.1, 15.2 and 15.4 on a group that replicates its databases' log, every part real: agents (the CLI, with their
// watchdogs) guarding the notes service, a real etcd, the endpoint process, the storage API for the bases. The
// standby pulls the primary's frames from the primary's agent as they are written; each generation's base goes
// through the group's repository. A client writes through the endpoint all along and counts what was
// acknowledged: after a switchover, and after a crash of the primary's service, every acknowledged write is on
// the new primary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
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
import {
  decodeAnswer,
  type PullAnswer,
  type PullRequest,
  pullFrames,
  SYNCED_PATH,
  WAL_PULL_PATH,
} from '@/lib/engine/replication/wal-peer';
import type { WalPosition } from '@/lib/engine/replication/wal-follower';
import { WalReplica } from '@/lib/engine/replication/wal-replica';
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
      // The primary's logs that wait behind the copy's log, each checkpointed into its file in turn on a thread of
      // the puller's: none once it is at rest (the primary keeps no copy).
      expect(onPrimary.waitingLogs).toBeNull();
      await waitFor('the standby’s copy at rest', async () => (await replicationOf(standby)).waitingLogs === 0, 30_000);

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
    const named = () => namedSynchronous(cluster);
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

  it('15.3 a strict group of three: its synchronous standby lost, the other standby, which holds every write, is named in its place and writes go on; with none left, writes wait: a flood of callers of the open barrier from one address is refused at once past a few, and pulls in a standby’s name from another address do not count as its acknowledgment', async () => {
    const cluster = await startEtcdCluster({
      etcd: server.endpoints,
      nodes: 3,
      settings: { replication: 'log', synchronous: 'strict', synchronousTimeoutMs: 1500 },
    });
    const endpoint = await cluster.startEndpoint();
    const load = writer(endpoint.url, 0);
    const named = () => namedSynchronous(cluster);
    try {
      const primary = cluster.nodeById((await waitFor('a primary', () => cluster.leader(), 30_000)).holder);
      await waitFor('writes through the endpoint', () => load.acked.length >= 20, 30_000);
      const first = await waitFor(
        'a standby named synchronous',
        async () => {
          const id = await named();
          return id && id !== primary.nodeId ? cluster.nodeById(id) : null;
        },
        30_000,
      );
      const other = cluster.nodes.find((n) => n !== primary && n !== first)!;
      // Both standbys hold every write; the one named is lost.
      first.process!.kill('SIGKILL');
      await waitFor(`${other.name} to be named in its place`, async () => (await named()) === other.nodeId, 30_000);
      const ackedThen = load.acked.length;
      await waitFor('writes acknowledged once the other is named', () => load.acked.length > ackedThen + 20, 30_000);

      // The other lost too: strict, writes wait (the group never says it is asynchronous).
      other.process!.kill('SIGKILL');
      const barrier = `http://127.0.0.1:${primary.agentPort}${SYNCED_PATH}`;
      await waitFor(
        'the barrier to hold callers',
        async () => {
          const res = await askFrom('127.0.0.3', barrier);
          return res.status === 503 && res.body === 'waiting';
        },
        30_000,
      );
      expect(await named()).not.toBeNull();
      // Every write answered before the barrier held its callers was answered by then (each waits the bound, at
      // most, before it is told to wait): from here on, none is.
      const ackedWhileWaiting = load.acked.length;
      // A flood from one address: a few are held (then told to wait), the rest refused at once, with nothing said;
      // a caller from another address is still held, not refused.
      const flood = await Promise.all([
        ...Array.from({ length: 40 }, () => askFrom('127.0.0.2', barrier)),
        askFrom('127.0.0.3', barrier),
      ]);
      const fromThere = flood.slice(0, 40);
      expect(fromThere.filter((r) => r.body === 'waiting')).toHaveLength(8);
      expect(fromThere.filter((r) => r.status === 503 && r.body === '')).toHaveLength(32);
      expect(flood[40]).toEqual({ status: 503, body: 'waiting' });
      expect(load.acked.length).toBe(ackedWhileWaiting);

      // A member's key in an attacker's hands, on another machine: it pulls in the name of the standby named
      // synchronous, from where that standby's copy ended up to the primary's end. It is answered (the group key
      // opens the frames to any member), but its pulls do not count as that standby's acknowledgment: writes still
      // wait.
      const lost = await named();
      const lostNode = cluster.nodeById(lost!);
      let from: WalPosition | null = new WalReplica(
        path.join(cluster.dir, lostNode.name, 'service', 'notes.db'),
      ).position();
      const token = Number((await cluster.leader())!.token) + cluster.settings.epochBase;
      let answers = 0;
      for (;;) {
        const answer = await pullFrom('127.0.0.2', `http://127.0.0.1:${primary.agentPort}`, {
          nodeId: lost!,
          groupKey: cluster.groupKey,
          request: { db: 'notes.db', from, token },
        });
        answers++;
        if (answer.kind !== 'frames') {
          expect(answer.kind).toBe('current');
          break;
        }
        from = answer.batch.end;
      }
      expect(answers).toBeGreaterThan(0);
      // The barrier is asked again after the pulls: its answer is still to wait, and no write was answered.
      expect(await askFrom('127.0.0.3', barrier)).toEqual({ status: 503, body: 'waiting' });
      expect(load.acked.length).toBe(ackedWhileWaiting);
    } finally {
      await load.stop();
      await cluster.stop();
    }
  }, 300_000);
});

/** A pull signed with the group key in `nodeId`'s name, sent from `localAddress`. */
function pullFrom(
  localAddress: string,
  agentUrl: string,
  pull: { nodeId: string; groupKey: string; request: PullRequest },
): Promise<PullAnswer> {
  const body = JSON.stringify(pull.request);
  const headers = signRequest({ nodeId: pull.nodeId, secret: pull.groupKey }, 'POST', WAL_PULL_PATH, body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(WAL_PULL_PATH, agentUrl),
      { method: 'POST', localAddress, agent: false, headers: { ...headers, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`answered ${res.statusCode}`));
          else resolve(decodeAnswer(Buffer.concat(chunks)));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The synchronous standby the primary last named, as the members read it on etcd. */
async function namedSynchronous(cluster: EtcdCluster): Promise<string | null | undefined> {
  return (JSON.parse((await cluster.store.get(PRIMARY_POSITION_KEY)) ?? '{}') as { synchronous?: string | null })
    .synchronous;
}

/** A GET of `url` sent from `localAddress` (any of 127.0.0.0/8 reaches this machine's loopback). */
function askFrom(localAddress: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { localAddress, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}
