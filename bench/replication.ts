// `npm run bench:replication`: 15.5's figures for log replication of SQLite between agents (docs/failover.md, "Log
// replication of SQLite"), on a real two-node group coordinated on a real (single-member) etcd: agents (the CLI,
// with their watchdogs) guarding the notes service, the endpoint process, the storage API for the bases, a client
// writing through the endpoint one write at a time, as fast as that allows. For each database size in
// FAILOVER_SIZES_MB (default "100,1000"):
//   1. the primary's notes.db is grown to the size (1 MiB random blobs, 50 per transaction, into a table of the
//      bench's own, written with better-sqlite3 straight into the primary's file), and the standby catches up;
//   2. steady load: the client through the endpoint and, beside it, a process writing 500 transactions a second
//      straight into the primary's database (test/support/sqlite-writer.cjs; each deletes the rows of an older one,
//      so the database keeps its size). The window covers whole cycles of bases (a base is a copy of the database,
//      taken each time the frames kept outgrow it: a burst that a window of fixed length holds or misses): it
//      begins as the primary has taken a base the load made due, the standby within AT_REST_LAG_MS of it, and
//      ends, LOAD_SECONDS (default 30) later at least, as it has taken another. Every 100 ms the standby's lag
//      (the primary's caughtUpAt minus the standby's, both on the primary's clock) is sampled from both agents'
//      statuses (its p99 also over the samples taken while a base was under way); the primary's AGENT process
//      (its replicator included: a worker thread, and its bases' shipping) is measured from /proc over the window
//      (CPU seconds, and bytes read and written, per minute), and per MiB of the service's log (what its
//      replicator copied from it, as the agent's status says): bytes written with the window's bases left out,
//      and the newest base's bytes per byte of the log copied since the base before it;
//   3. failover trials, FAILOVER_TRIALS (default 3) of each, in an asynchronous group (the one of 2) and then in a
//      fresh synchronous one grown to the same size: the primary's whole node killed (agent, watchdog and service
//      at once) under the client's load, and a switchover asked on etcd, each once the group is at rest (the
//      standby within AT_REST_LAG_MS of the primary: after a switchover, the new standby first restores a base and
//      catches up, and an asynchronous crash meanwhile loses what it has not caught up). For each: the RTO as the client sees it
//      (the longest wait between two acknowledged writes around the event) and the acknowledged writes the new
//      primary does not hold (with, for those, how long before the fault the oldest of them was acknowledged).
// Then RANDOM_KILLS (default 50) whole-node kills of the primary at random moments in a synchronous group
// (RANDOM_KILL_SIZE_MB, default 0: the notes database as the writes make it), the killed node's agent started
// again after each takeover; every acknowledged write is checked on the new primary each time.
// The groups run with the product's timings (TTL 6 s, renewals every 2 s, synchronousTimeoutMs 2 s). What the group
// does by itself is reported, not hidden: a primary that loses its role during the load ends the load's window
// there; failovers between trials that no fault caused are counted with the writes they lost; a database whose
// primary keeps changing while it grows (GROW_ROUNDS) or a group that does not settle before a fault ends that part
// of the run, which goes on with the next and exits with 2 at the end (1 on any other error).
// Prints Markdown tables for docs/benchmarks.md and "replication bench done" at the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import Database from 'better-sqlite3';

import {
  GROUP_SETTINGS_DEFAULTS,
  PRIMARY_POSITION_KEY,
  SWITCHOVER_INTENT_KEY,
} from '@/lib/engine/coordination/group-keys';
import type { AgentStatus } from '@/lib/engine/nodes/agent-protocol';
import { startEtcd, stopEtcd } from '@/scripts/etcd.mjs';
import type { TestNode } from '@/test/support/cluster';
import { type EtcdCluster, startEtcdCluster } from '@/test/support/etcd-cluster';
import { write } from '@/test/support/notes-client';
import { childrenOf } from '@/test/support/processes';
import { exitOf, pace, waitFor } from '@/test/support/wait';

const ROOT = path.resolve(__dirname, '..');
const SQLITE_WRITER = path.join(ROOT, 'test', 'support', 'sqlite-writer.cjs');

const SIZES_MB = (process.env.FAILOVER_SIZES_MB ?? '100,1000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isFinite(n) && n >= 0);
const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 30);
const TRIALS = Number(process.env.FAILOVER_TRIALS ?? 3);
const RANDOM_KILLS = Number(process.env.RANDOM_KILLS ?? 50);
const RANDOM_KILL_SIZE_MB = Number(process.env.RANDOM_KILL_SIZE_MB ?? 0);
/** The direct writer's rate during the steady load (transactions a second). */
const DIRECT_RATE = 500;
/** ...each deleting the rows of the transaction this many before it, so the database keeps its size (about 13 MiB of
 *  rows on top of the growth's). */
const KEEP_TXNS = 1000;
const SYNCHRONOUS_TIMEOUT_MS = GROUP_SETTINGS_DEFAULTS.synchronousTimeoutMs;
const MIB = 2 ** 20;
/** A database whose primary keeps losing its role while it grows is given up after this many rounds. */
const GROW_ROUNDS = 3;
const CLK_TCK = 100;

type Mode = 'off' | 'on';
type Fault = 'crash' | 'switchover';

// --- the client ------------------------------------------------------------------------------------------------

/** A client writing through the endpoint one write at a time, as fast as that allows, noting each acknowledged
 *  write and when (this process's monotonic clock). Seqs grow, so both lists are sorted. */
class Client {
  readonly seqs: number[] = [];
  readonly at: number[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    readonly url: string,
    private seq: number,
  ) {
    this.done = (async () => {
      while (!this.stopped) {
        const seq = ++this.seq;
        if (await write(this.url, seq)) {
          this.seqs.push(seq);
          this.at.push(performance.now());
        }
      }
    })();
  }

  get count(): number {
    return this.seqs.length;
  }

  /** Acknowledged writes in (from, to]. */
  between(from: number, to: number): number {
    return lowerBound(this.at, to + 1e-9) - lowerBound(this.at, from + 1e-9);
  }

  /** When `seq` was acknowledged. */
  ackedAt(seq: number): number {
    return this.at[lowerBound(this.seqs, seq)];
  }

  /** The longest wait between two acknowledgments from the last one before `t0` to the `upTo`th. */
  longestGap(t0: number, upTo: number): number {
    let longest = 0;
    for (let i = Math.max(1, lowerBound(this.at, t0)); i < Math.min(upTo, this.at.length); i++)
      longest = Math.max(longest, this.at[i] - this.at[i - 1]);
    return longest;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** The first index of sorted `values` whose value is >= `x`. */
function lowerBound(values: number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many of `seqs` the service behind `url` does not hold (asked in parts; the service takes 100,000 at most). */
async function missingCount(url: string, seqs: number[]): Promise<number> {
  let missing = 0;
  for (let i = 0; i < seqs.length; i += 50_000) {
    const part = seqs.slice(i, i + 50_000);
    missing += await waitFor(
      'the primary to answer /writes/missing',
      async () => {
        const res = await fetch(`${url}/writes/missing`, {
          method: 'POST',
          body: JSON.stringify({ seqs: part }),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`the service answered ${res.status}`);
        return { n: ((await res.json()) as { missing: number }).missing };
      },
      60_000,
    ).then((r) => r.n);
  }
  return missing;
}

/** Which of `seqs` the service behind `url` does not hold: halves asked again where some are missing. */
async function missingSeqs(url: string, seqs: number[]): Promise<number[]> {
  if (seqs.length === 0) return [];
  const n = await missingCount(url, seqs);
  if (n === 0) return [];
  if (n === seqs.length) return seqs;
  const half = seqs.length >>> 1;
  return [...(await missingSeqs(url, seqs.slice(0, half))), ...(await missingSeqs(url, seqs.slice(half)))];
}

// --- the group ---------------------------------------------------------------------------------------------------

interface Group {
  cluster: EtcdCluster;
  endpointUrl: string;
  mode: Mode;
}

async function startGroup(etcd: string[], mode: Mode): Promise<Group> {
  const cluster = await startEtcdCluster({
    etcd,
    // The product's timings (the tests' cluster shortens them to a TTL of 3 s).
    settings: {
      ttlSeconds: GROUP_SETTINGS_DEFAULTS.ttlSeconds,
      renewMs: GROUP_SETTINGS_DEFAULTS.renewMs,
      replication: 'log',
      synchronous: mode,
      synchronousTimeoutMs: SYNCHRONOUS_TIMEOUT_MS,
    },
  });
  try {
    const endpoint = await cluster.startEndpoint();
    await waitFor('a member to take the leader key', () => cluster.leader(), 30_000);
    return { cluster, endpointUrl: endpoint.url, mode };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

type Replication = NonNullable<AgentStatus['data']['replication']>[number];

/** The one database's replication on `node`, as its agent reports it; null when it cannot be asked. */
async function replicationOf(node: TestNode): Promise<Replication | null> {
  return (await statusOf(node))?.db ?? null;
}

/** `node`'s role and epoch, and its database's replication; null when it cannot be asked. */
async function statusOf(node: TestNode): Promise<{ role: string; epoch: number; db: Replication | null } | null> {
  const status = await node.direct.status().catch(() => null);
  return status && { role: status.role, epoch: status.epoch, db: status.data.replication?.[0] ?? null };
}

/** The primary and the standby as the leader key says now. */
async function roles(cluster: EtcdCluster): Promise<{ primary: TestNode; standby: TestNode }> {
  const leader = await waitFor('a member to hold the leader key', () => cluster.leader(), 60_000);
  const primary = cluster.nodeById(leader.holder);
  return { primary, standby: cluster.nodes.find((n) => n !== primary)! };
}

/** Whether `node`'s copy holds everything its primary had committed by `time` (the primary's clock). */
async function standbyHolds(node: TestNode, time: number): Promise<boolean> {
  const db = await replicationOf(node);
  return db?.role === 'standby' && (db.caughtUpAt ?? 0) > time;
}

/** Waits for `check` while the leader key stays with the leadership of `token`: 'held', or 'changed' as soon as
 *  another leadership began (the primary lost its lease meanwhile). */
function whileLeading(
  cluster: EtcdCluster,
  token: string,
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<'held' | 'changed'> {
  return waitFor(
    what,
    async () => {
      if ((await cluster.leader())?.token !== token) return 'changed' as const;
      return (await check()) && ('held' as const);
    },
    timeoutMs,
  );
}

/** The synchronous standby the primary last named, as the members read it on etcd. */
async function namedSynchronous(cluster: EtcdCluster): Promise<string | null | undefined> {
  const position = await cluster.store.get(PRIMARY_POSITION_KEY);
  return (JSON.parse(position ?? '{}') as { synchronous?: string | null }).synchronous;
}

/** How long a standby may take to catch up with a database of `mb` MiB (a base of that size, through the
 *  repository, at worst). */
const catchUpTimeoutMs = (mb: number) => 120_000 + mb * 300;

/** Runs the waits of a group settling; a wait that fails says what the standby reports of its copy. */
async function settle(standby: TestNode, waits: () => Promise<boolean>): Promise<boolean> {
  try {
    return await waits();
  } catch (err) {
    const status = await statusOf(standby);
    throw new Error(`${why(err)}; ${standby.name} reports ${JSON.stringify(status?.db ?? null)}`);
  }
}

/** A series of faults on one group, under one client's load. */
interface Run {
  group: Group;
  client: Client;
  /** Every acknowledged write the primary was found not to hold (each counted once). */
  lost: Set<number>;
  /** The leader key's token after the last fault: another one at the next trial is a failover no fault caused. */
  token: string | null;
  unplanned: number;
  /** Acknowledged writes found lost outside the faults (after failovers no fault caused). */
  unplannedLost: number;
}

function newRun(group: Group, firstSeq: number): Run {
  return {
    group,
    client: new Client(group.endpointUrl, firstSeq),
    lost: new Set(),
    token: null,
    unplanned: 0,
    unplannedLost: 0,
  };
}

/** The acknowledged writes that the primary does not hold and were not found lost before. */
async function newlyLost(run: Run): Promise<number[]> {
  const missing = await missingSeqs(run.group.endpointUrl, [...run.client.seqs]);
  const fresh = missing.filter((seq) => !run.lost.has(seq));
  for (const seq of fresh) run.lost.add(seq);
  return fresh;
}

/** How far behind the primary a standby at rest may be (its lag): a fault comes once the standby holds what the
 *  primary committed this recently, not merely what it had committed when the group began to settle (a standby
 *  that restored a base after a switchover passes that while it is still catching up, seconds behind). */
const AT_REST_LAG_MS = 1000;

/** The group at rest before a fault: writes acknowledged through the endpoint, the standby caught up with them and
 *  current (AT_REST_LAG_MS; named synchronous in a synchronous group) and allowed to take the key. A failover that no fault caused (the
 *  primary's lease lost under the load) is counted, with the writes it lost, and the group settles again. */
async function steady(run: Run, mb: number): Promise<{ primary: TestNode; standby: TestNode }> {
  const { group, client } = run;
  const { cluster } = group;
  for (let attempt = 1; ; attempt++) {
    const leader = await waitFor('a member to hold the leader key', () => cluster.leader(), 60_000);
    if (run.token !== null && leader.token !== run.token) {
      run.unplanned++;
      console.log(`  a failover no fault caused: ${cluster.nodeById(leader.holder).name} holds the key now`);
    }
    run.token = leader.token;
    const primary = cluster.nodeById(leader.holder);
    const standby = cluster.nodes.find((n) => n !== primary)!;
    const before = client.count;
    await waitFor('writes through the endpoint', () => client.count >= before + 20, 60_000);
    const early = await newlyLost(run);
    if (early.length > 0) {
      run.unplannedLost += early.length;
      console.log(`  ${early.length} acknowledged writes lost outside the faults`);
    }
    const since = Date.now();
    const settled = await settle(
      standby,
      async () =>
        (await whileLeading(
          cluster,
          leader.token,
          `${standby.name} to hold what the primary committed by then, and be current`,
          () => standbyHolds(standby, Math.max(since, Date.now() - AT_REST_LAG_MS)),
          catchUpTimeoutMs(mb),
        )) === 'held' &&
        (group.mode === 'off' ||
          (await whileLeading(
            cluster,
            leader.token,
            `${standby.name} to be named synchronous`,
            async () => (await namedSynchronous(cluster)) === standby.nodeId,
            60_000,
          )) === 'held') &&
        (await whileLeading(
          cluster,
          leader.token,
          'the standby to be allowed to take the key',
          () => cluster.allMayTakeOver(primary.nodeId),
          60_000,
        )) === 'held',
    );
    if (settled && (await cluster.leader())?.token === leader.token) return { primary, standby };
    if (attempt >= 5) throw new Error('the primary keeps changing while the group settles');
  }
}

/** The whole node lost, as a machine is: its agent, its watchdog and its service killed at once. Returns when (this
 *  process's monotonic clock). */
async function killNode(node: TestNode): Promise<number> {
  const agent = node.process!;
  const servicePid = (await node.direct.status()).service.pid;
  const watchdogs = childrenOf(agent.pid!, 'watchdog.cjs');
  const t0 = performance.now();
  agent.kill('SIGKILL');
  for (const pid of watchdogs) kill(pid);
  if (servicePid && !kill(-servicePid)) kill(servicePid);
  await waitFor(`agent ${node.name} to die`, exitOf(agent), 10_000);
  return t0;
}

function kill(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

function takesKey(cluster: EtcdCluster, node: TestNode, timeoutMs: number): Promise<true> {
  return waitFor(
    `${node.name} to take the key`,
    async () => (await cluster.leader())?.holder === node.nodeId,
    timeoutMs,
  );
}

/** The primary's database file: the notes service's, in its node's service data directory (cluster.ts). */
const databaseOf = (cluster: EtcdCluster, node: TestNode) => path.join(cluster.dir, node.name, 'service', 'notes.db');

/** The size of the database in `file` (its pages, the log's included). */
function databaseBytes(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 30_000 });
  try {
    return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  } finally {
    db.close();
  }
}

/** Grows `file` (the database of `node`, primary of `epoch`) to `mb` MiB: 1 MiB random blobs, 50 per transaction,
 *  in a table of the bench's own. Stops if the node stops being that primary (its file is then a standby's copy). */
async function pad(file: string, mb: number, node: TestNode, epoch: number): Promise<void> {
  const db = new Database(file, { timeout: 30_000 });
  try {
    db.exec('CREATE TABLE IF NOT EXISTS pad (b BLOB)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const size = () => (db.pragma('page_count', { simple: true }) as number) * pageSize;
    const insert = db.prepare('INSERT INTO pad (b) VALUES (?)');
    const many = db.transaction((n: number) => {
      for (let i = 0; i < n; i++) insert.run(randomBytes(MIB));
    });
    for (let current = size(); current < mb * MIB; current = size()) {
      const status = await statusOf(node);
      if (status?.role !== 'primary' || status.epoch !== epoch) return;
      many(Math.min(50, Math.ceil((mb * MIB - current) / MIB)));
    }
  } finally {
    db.close();
  }
}

/** Grows the primary's database to `mb` MiB and waits for the standby to hold all of it. A primary that loses its
 *  role meanwhile (its lease) may leave a new one without all of it: it is grown again. */
async function grow(group: Group, mb: number): Promise<{ padS: number; catchUpS: number }> {
  const { cluster } = group;
  // The service has made its database (WAL mode, its table) before the first write it acknowledges.
  await waitFor('a write through the endpoint', () => write(group.endpointUrl, 1), 60_000);
  let padS = 0;
  for (let round = 1; ; round++) {
    const leader = await waitFor('a member to hold the leader key', () => cluster.leader(), 60_000);
    const primary = cluster.nodeById(leader.holder);
    const standby = cluster.nodes.find((n) => n !== primary)!;
    const file = databaseOf(cluster, primary);
    const epoch = (await primary.direct.status()).epoch;
    const t0 = performance.now();
    await pad(file, mb, primary, epoch);
    const padded = Date.now();
    const t1 = performance.now();
    padS += (t1 - t0) / 1000;
    const held = await whileLeading(
      cluster,
      leader.token,
      `${standby.name} to hold the grown database`,
      () => standbyHolds(standby, padded),
      catchUpTimeoutMs(mb),
    );
    if (held === 'held' && (await cluster.leader())?.token === leader.token && databaseBytes(file) >= mb * MIB)
      return { padS, catchUpS: (performance.now() - t1) / 1000 };
    console.log(`  the primary changed while the database grew (round ${round}): grown again on the new one`);
    if (round >= GROW_ROUNDS) throw new Error(`the primary changed ${round} times while the database grew`);
  }
}

// --- 2: cost and lag under steady load ---------------------------------------------------------------------------

interface ProcSample {
  cpuS: number;
  readBytes: number;
  writeBytes: number;
  at: number;
}

/** The whole machine's busy CPU time so far (seconds, every CPU), from /proc/stat. */
function machineBusyS(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const busy = ticks.slice(0, 8).reduce((a, b) => a + b, 0) - ticks[3] - ticks[4];
  return busy / CLK_TCK;
}

/** The machine's load average over the last minute. */
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the whole line (utime, stime) are 12 and 13 after the command's name and the state.
  const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const io = Object.fromEntries(
    readFileSync(`/proc/${pid}/io`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(':').map((s) => s.trim())),
  );
  return { cpuS, readBytes: Number(io.read_bytes), writeBytes: Number(io.write_bytes), at: performance.now() };
}

/** What the direct writer says as it stops. */
interface WriterReport {
  rows: number;
  transactions: number;
  seconds: number;
  truncateBusy: number;
}

interface LoadResult {
  mb: number;
  padS: number;
  catchUpS: number;
  seconds: number;
  clientPerS: number;
  directPerS: number;
  truncateBusy: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** The lag's p99 over the samples taken while a base was under way, and how many there were. */
  lagP99InBases: number;
  samplesInBases: number;
  samples: number;
  /** Generations the primary began during the window (each a base shipped, and installed by the standby). */
  generations: number;
  /** CPUs the whole machine kept busy over the window (everything on it, this bench's group and anything else). */
  machineCpus: number;
  loadAverage: number;
  /** Where the window was cut: the primary lost its role (its lease) after this many seconds; null: it was not. */
  primaryLostAfterS: number | null;
  cpuPerMin: number;
  readMBPerMin: number;
  writeMBPerMin: number;
  /** The service's log over the window: the frames the primary's replicator copied from it. */
  logMB: number;
  /** Bases taken in the window, and what they wrote. */
  bases: number;
  /** Whether the window ended as a base had been taken (it began as one had): it holds whole cycles of bases. */
  wholeCycles: boolean;
  basesMB: number;
  /** The agent's bytes written per byte of log over the window, its bases' left out. */
  writtenPerLog: number;
  /** The newest base's bytes per byte of the log copied since the base before it: what the bases cost, as the rule
   *  that takes them (the frames kept since the last outgrowing the database) spreads them over the writes. */
  basesPerLog: number;
  newestBaseMB: number;
  logBeforeBaseMB: number;
  /** The agent's CPU seconds per MiB of log over the window (any base's shipping in it included). */
  cpuPerLogMB: number;
}

async function steadyLoad(group: Group, mb: number, grown: { padS: number; catchUpS: number }): Promise<LoadResult> {
  const { cluster } = group;
  const { primary, standby } = await roles(cluster);
  const client = new Client(group.endpointUrl, 1_000_000);
  let writer: ChildProcess | null = null;
  try {
    await waitFor('writes through the endpoint', () => client.count >= 20, 60_000);
    // At rest: the standby's copy has no log waiting to be checkpointed (after the growth, its log is as long as
    // the growth, and its checkpoint, beside the frames, takes seconds: measured apart, not in the window).
    const atRest = performance.now();
    await waitFor(
      'the standby’s copy at rest (no log waiting to be checkpointed)',
      async () => (await statusOf(standby))?.db?.waitingLogs === 0,
      catchUpTimeoutMs(mb),
    );
    // ...and the primary has taken and shipped the bases the growth made due (a base is a burst of work of its own,
    // measured with the bases, not in the steady cost).
    await waitFor(
      'the primary’s bases taken and shipped',
      async () => (await statusOf(primary))?.db?.baseUnderWay === false,
      catchUpTimeoutMs(mb),
    );
    const restS = (performance.now() - atRest) / 1000;
    if (restS >= 1)
      console.log(
        `  the group came to rest (the standby's copy, the primary's bases) ${restS.toFixed(1)} s after it caught up`,
      );
    const pid = primary.process!.pid!;
    const epoch = (await statusOf(primary))?.epoch;
    const basesAtRest = (await statusOf(primary))?.db?.written?.bases;
    if (basesAtRest === undefined) throw new Error('the primary says nothing of what its replicator wrote');
    writer = spawn(
      process.execPath,
      [SQLITE_WRITER, databaseOf(cluster, primary), '0', String(DIRECT_RATE), String(KEEP_TXNS)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const report = new Promise<WriterReport>((resolve, reject) => {
      readline.createInterface({ input: writer!.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
      writer!.once('exit', (code) => code !== 0 && reject(new Error(`the direct writer exited with ${code}`)));
    });
    report.catch(() => undefined);
    let stopping = false;
    const writing = writer;
    void exitOf(writer).then(() => {
      if (writing.signalCode === null && !stopping) console.log('  the direct writer stopped by itself');
    });
    // The window covers whole cycles of the rule that takes bases: it begins as the primary has taken a base the load
    // made due (its copy of the database complete), and ends, after LOAD_SECONDS at least, as it has taken another:
    // each base's copy and shipping, and the log between, in the window once. What the agent costs per minute over
    // it is what it costs over a long run, at any size (a base is a burst of work, a copy of the database, each time
    // the frames kept outgrow it: a window of fixed length holds one or misses it).
    const cycleTimeoutMs = catchUpTimeoutMs(mb) + LOAD_SECONDS * 1000;
    const lost = (p: Awaited<ReturnType<typeof statusOf>>) => p !== null && (p.role !== 'primary' || p.epoch !== epoch);
    // ...with the standby within AT_REST_LAG_MS of the primary as it begins (a lag the start of the load caused is
    // not the steady state's): a base taken while the standby lags more is passed over for the next.
    let after = basesAtRest;
    let passedOver = 0;
    const began = await waitFor(
      'a base taken under the load, the standby caught up',
      async () => {
        const [p, s] = await Promise.all([statusOf(primary), statusOf(standby)]);
        if (lost(p)) return 'lost' as const;
        const db = p?.db;
        const w = db?.written;
        if (!db || !w || w.bases <= after) return false;
        if (db.caughtUpAt !== null && (s?.db?.caughtUpAt ?? 0) >= db.caughtUpAt - AT_REST_LAG_MS) return w;
        after = w.bases;
        passedOver++;
        return false;
      },
      cycleTimeoutMs + 2 * catchUpTimeoutMs(mb),
    );
    if (began === 'lost') throw new Error('the primary lost its role before the load’s window began');
    if (passedOver > 0)
      console.log(
        `  ${passedOver} bases passed over: the standby lagged more than ${AT_REST_LAG_MS} ms as they were taken`,
      );
    const figuresAtStart = began;
    const start = procSample(pid);
    const machineStart = machineBusyS();
    const ackedBefore = client.count;
    const lags: number[] = [];
    /** The samples taken while a base was under way on the primary (due, being taken or shipped). */
    const lagsInBases: number[] = [];
    const generations = new Set<string>();
    let primaryLostAfterS: number | null = null;
    let figures = figuresAtStart;
    let wholeCycles = false;
    for (;;) {
      const due = performance.now() + 100;
      const [p, s] = await Promise.all([statusOf(primary), statusOf(standby)]);
      const elapsedMs = performance.now() - start.at;
      // The primary lost its role (its lease ran out under the load): the window ends there, and the direct
      // writer, which would now write into a standby's copy, is stopped.
      if (lost(p)) {
        primaryLostAfterS = elapsedMs / 1000;
        console.log(
          `  the primary lost its role ${primaryLostAfterS.toFixed(1)} s into the load: the window ends there`,
        );
        break;
      }
      if (p?.db?.generation) generations.add(p.db.generation);
      if (p?.db?.written) figures = p.db.written;
      if (
        p?.db?.role === 'primary' &&
        s?.db?.role === 'standby' &&
        p.db.caughtUpAt !== null &&
        s.db.caughtUpAt !== null
      ) {
        const lag = Math.max(0, p.db.caughtUpAt - s.db.caughtUpAt);
        lags.push(lag);
        if (p.db.baseUnderWay) lagsInBases.push(lag);
      }
      if (elapsedMs >= LOAD_SECONDS * 1000 && figures.bases > figuresAtStart.bases) {
        wholeCycles = true;
        break;
      }
      if (elapsedMs >= cycleTimeoutMs) {
        console.log(`  no base was taken in ${(elapsedMs / 1000).toFixed(0)} s: the window ends there`);
        break;
      }
      await pace(Math.max(0, due - performance.now()));
    }
    const end = procSample(pid);
    const machineEnd = machineBusyS();
    stopping = true;
    writer.kill('SIGTERM');
    const written = primaryLostAfterS === null ? await waitFor('the direct writer’s report', report, 30_000) : null;
    const seconds = (end.at - start.at) / 1000;
    const perMin = (x: number) => (x / seconds) * 60;
    const logBytes = figures.logBytes - figuresAtStart.logBytes;
    const logMB = logBytes / MIB;
    const basesBytes = figures.baseBytes - figuresAtStart.baseBytes;
    const newest = figures.newestBase;
    const sorted = lags.sort((a, b) => a - b);
    return {
      mb,
      ...grown,
      seconds,
      clientPerS: (client.count - ackedBefore) / seconds,
      directPerS: written ? written.transactions / written.seconds : NaN,
      truncateBusy: written?.truncateBusy ?? NaN,
      lagP50: percentile(sorted, 50),
      lagP99: percentile(sorted, 99),
      lagMax: sorted.at(-1) ?? NaN,
      lagP99InBases: percentile(
        lagsInBases.sort((a, b) => a - b),
        99,
      ),
      samplesInBases: lagsInBases.length,
      samples: sorted.length,
      generations: Math.max(0, generations.size - 1),
      machineCpus: (machineEnd - machineStart) / seconds,
      loadAverage: loadAverage(),
      primaryLostAfterS,
      cpuPerMin: perMin(end.cpuS - start.cpuS),
      readMBPerMin: perMin(end.readBytes - start.readBytes) / MIB,
      writeMBPerMin: perMin(end.writeBytes - start.writeBytes) / MIB,
      logMB,
      bases: figures.bases - figuresAtStart.bases,
      wholeCycles,
      basesMB: basesBytes / MIB,
      writtenPerLog: (end.writeBytes - start.writeBytes - basesBytes) / logBytes,
      basesPerLog: (newest?.bytes ?? NaN) / (newest?.logBytesBefore ?? NaN),
      newestBaseMB: (newest?.bytes ?? NaN) / MIB,
      logBeforeBaseMB: (newest?.logBytesBefore ?? NaN) / MIB,
      cpuPerLogMB: (end.cpuS - start.cpuS) / logMB,
    };
  } finally {
    if (writer && writer.exitCode === null && writer.signalCode === null) writer.kill('SIGKILL');
    await client.stop();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// --- 3: failover trials ------------------------------------------------------------------------------------------

interface Trial {
  rtoMs: number;
  /** From the fault to the standby holding the leader key. */
  keyMs: number;
  /** The client's acknowledged writes a second, over the second before the fault. */
  ratePerS: number;
  lost: number;
  /** From the oldest lost write's acknowledgment to the fault (0 when none was lost). */
  lostSpanMs: number;
}

/** One fault under the client's load: the RTO the client sees and the acknowledged writes lost. */
async function trial(run: Run, fault: Fault, mb: number, pauseMs: number): Promise<Trial> {
  const { group, client } = run;
  const { cluster } = group;
  const { primary, standby } = await steady(run, mb);
  await pace(pauseMs);
  let t0: number;
  if (fault === 'crash') t0 = await killNode(primary);
  else {
    t0 = performance.now();
    const intent = { id: randomBytes(8).toString('hex'), to: standby.nodeId, at: Date.now() };
    await cluster.store.put(SWITCHOVER_INTENT_KEY, JSON.stringify(intent));
  }
  await takesKey(cluster, standby, 60_000);
  const taken = performance.now();
  run.token = (await cluster.leader())?.token ?? null;
  const ratePerS = client.between(t0 - 1000, t0);
  await waitFor('20 writes acknowledged by the new primary', () => client.between(taken, Infinity) >= 20, 60_000);
  const upTo = lowerBound(client.at, taken) + 20;
  const rtoMs = client.longestGap(t0, upTo);
  const fresh = await newlyLost(run);
  const oldest = fresh.length > 0 ? Math.min(...fresh.map((seq) => client.ackedAt(seq))) : t0;
  // The lost node comes back as a standby (it installs the new primary's base).
  if (fault === 'crash') await cluster.startAgent(primary);
  return { rtoMs, keyMs: taken - t0, ratePerS, lost: fresh.length, lostSpanMs: Math.max(0, t0 - oldest) };
}

interface Trials {
  results: Record<Fault, Trial[]>;
  unplanned: number;
  unplannedLost: number;
  /** Why the trials stopped before the last (the group did not settle), or null. */
  aborted: string | null;
}

/** The first line of an error's message. */
const why = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

async function trials(group: Group, mb: number): Promise<Trials> {
  const run = newRun(group, 2_000_000);
  const results: Record<Fault, Trial[]> = { crash: [], switchover: [] };
  let aborted: string | null = null;
  try {
    for (let i = 1; i <= TRIALS && !aborted; i++)
      for (const fault of ['crash', 'switchover'] as const) {
        let t: Trial;
        try {
          t = await trial(run, fault, mb, randomInt(1000));
        } catch (err) {
          aborted = `${fault} ${i}: ${why(err)}`;
          console.log(`  the trials stop here: ${aborted}`);
          break;
        }
        results[fault].push(t);
        console.log(
          `  ${mb} MiB, synchronous ${group.mode}, ${fault} ${i} (load average ${loadAverage().toFixed(1)}): ${t.ratePerS} writes/s before, key taken after ${(t.keyMs / 1000).toFixed(2)} s, client RTO ${(t.rtoMs / 1000).toFixed(2)} s, ${t.lost} acknowledged writes lost${t.lost ? ` (the oldest acknowledged ${t.lostSpanMs.toFixed(0)} ms before the fault)` : ''}`,
        );
      }
  } finally {
    await run.client.stop();
  }
  return { results, unplanned: run.unplanned, unplannedLost: run.unplannedLost, aborted };
}

// --- 5: random kills ---------------------------------------------------------------------------------------------

interface KillSeries {
  kills: number;
  acked: number;
  lost: number;
  rtos: number[];
  unplanned: number;
  aborted: string | null;
}

async function randomKills(group: Group, mb: number): Promise<KillSeries> {
  const run = newRun(group, 3_000_000);
  const rtos: number[] = [];
  let aborted: string | null = null;
  try {
    for (let i = 1; i <= RANDOM_KILLS; i++) {
      let t: Trial;
      try {
        t = await trial(run, 'crash', mb, 200 + randomInt(1500));
      } catch (err) {
        aborted = `kill ${i}: ${why(err)}`;
        console.log(`  the series stops here: ${aborted}`);
        break;
      }
      rtos.push(t.rtoMs);
      console.log(
        `  kill ${i}/${RANDOM_KILLS}: key taken after ${(t.keyMs / 1000).toFixed(2)} s, client RTO ${(t.rtoMs / 1000).toFixed(2)} s, ${t.lost} lost (${run.lost.size} in all, of ${run.client.count} acknowledged)`,
      );
    }
    await run.client.stop();
    // At the end, every write acknowledged in the series, once more, on the last primary.
    await newlyLost(run);
    return {
      kills: rtos.length,
      acked: run.client.count,
      lost: run.lost.size,
      rtos,
      unplanned: run.unplanned,
      aborted,
    };
  } finally {
    await run.client.stop();
  }
}

// --- the run -----------------------------------------------------------------------------------------------------

/** What to stop if the bench is interrupted (SIGINT, SIGTERM): the group running, and etcd. */
const cleanups = new Set<() => Promise<void> | void>();

/** Stops a group; an agent that does not exit on SIGTERM in time is killed, and the group's directory removed. */
async function stopGroup(cluster: EtcdCluster): Promise<void> {
  try {
    await cluster.stop();
  } catch (err) {
    console.log(`  the group did not stop cleanly (${why(err)}): its agents are killed`);
    for (const node of cluster.nodes) {
      const agent = node.process;
      if (agent && agent.exitCode === null && agent.signalCode === null) {
        agent.kill('SIGKILL');
        await waitFor(`agent ${node.name} to die`, exitOf(agent), 10_000);
      }
    }
    await cluster.stop().catch(() => rmSync(cluster.dir, { recursive: true, force: true }));
  }
}

async function withGroup<T>(etcd: string[], mode: Mode, run: (group: Group) => Promise<T>): Promise<T> {
  const group = await startGroup(etcd, mode);
  const stop = () => stopGroup(group.cluster);
  cleanups.add(stop);
  try {
    return await run(group);
  } finally {
    cleanups.delete(stop);
    await stop();
  }
}

// The storage API of the tests' cluster (test/support/cluster.ts) lets a request that its client (an agent killed
// while it ships a base) cut off reject unhandled: that is an agent's loss, not the bench's.
process.on('unhandledRejection', (err) => {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ECONNRESET' && e.message === 'aborted') {
    console.log('  (the storage API: a request cut off by its agent)');
    return;
  }
  console.error(err);
  process.exit(1);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    console.error(`${signal}: stopping the groups and etcd`);
    void Promise.allSettled([...cleanups].map((stop) => stop())).then(() => process.exit(1));
  });

function stats(values: number[]): { median: number; worst: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN, worst: sorted.at(-1) ?? NaN };
}

async function main(): Promise<void> {
  console.log(
    `log replication benchmark: sizes ${SIZES_MB.join(', ')} MiB, ${LOAD_SECONDS} s of load, ${TRIALS} trials of each fault, ${RANDOM_KILLS} random kills (${RANDOM_KILL_SIZE_MB} MiB); ${os.cpus().length} CPUs, Node.js ${process.version}, SQLite ${new Database(':memory:').prepare('select sqlite_version() v').pluck().get()}`,
  );
  const server = await startEtcd(path.join(os.tmpdir(), `lifeline-bench-replication-${process.pid}`), 1);
  const stopServer = () => stopEtcd(server.dir);
  cleanups.add(stopServer);
  const loads: LoadResult[] = [];
  const failovers: ({ mb: number; mode: Mode } & Trials)[] = [];
  let series: KillSeries | null = null;
  let settings = '';
  /** Phases that ended in an error (the group did not settle, or grow): reported, and the run goes on. */
  const aborted: string[] = [];
  const phase = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      console.log(`  ${name}: aborted: ${why(err)}`);
      aborted.push(`${name}: ${why(err)}`);
    }
  };
  try {
    for (const mb of SIZES_MB) {
      console.log(`${mb} MiB, asynchronous group:`);
      await phase(`${mb} MiB, asynchronous group`, () =>
        withGroup(server.endpoints, 'off', async (group) => {
          const s = group.cluster.settings;
          settings = `TTL ${s.ttlSeconds} s, renewals every ${s.renewMs} ms, synchronousTimeoutMs ${SYNCHRONOUS_TIMEOUT_MS}`;
          const grown = await grow(group, mb);
          console.log(
            `  grown in ${grown.padS.toFixed(1)} s; the standby caught up ${grown.catchUpS.toFixed(1)} s later`,
          );
          const load = await steadyLoad(group, mb, grown);
          loads.push(load);
          console.log(
            `  steady load ${load.seconds.toFixed(1)} s: lag p50 ${load.lagP50} ms, p99 ${load.lagP99} ms (${load.lagP99InBases} ms over the ${load.samplesInBases} samples taken while a base was under way), ${load.generations} new generations; primary's agent ${load.cpuPerMin.toFixed(2)} CPU s/min, read ${load.readMBPerMin.toFixed(1)} MiB/min, written ${load.writeMBPerMin.toFixed(1)} MiB/min`,
          );
          if (TRIALS > 0) failovers.push({ mb, mode: 'off', ...(await trials(group, mb)) });
        }),
      );
      if (TRIALS === 0) continue;
      console.log(`${mb} MiB, synchronous group:`);
      await phase(`${mb} MiB, synchronous group`, () =>
        withGroup(server.endpoints, 'on', async (group) => {
          const grown = await grow(group, mb);
          console.log(
            `  grown in ${grown.padS.toFixed(1)} s; the standby caught up ${grown.catchUpS.toFixed(1)} s later`,
          );
          failovers.push({ mb, mode: 'on', ...(await trials(group, mb)) });
        }),
      );
    }
    if (RANDOM_KILLS > 0) {
      console.log(`random kills, synchronous group (${RANDOM_KILL_SIZE_MB} MiB):`);
      await phase('random kills', async () => {
        series = await withGroup(server.endpoints, 'on', async (group) => {
          if (RANDOM_KILL_SIZE_MB > 0) await grow(group, RANDOM_KILL_SIZE_MB);
          return randomKills(group, RANDOM_KILL_SIZE_MB);
        });
      });
    }
  } finally {
    cleanups.delete(stopServer);
    stopServer();
  }

  console.log(`\nGroup: two nodes, a single-member etcd, ${settings}.`);
  console.log(
    `\n| database | grown in | standby caught up | load window | client writes/s | direct txn/s | lag p50 | lag p99 | lag max (samples) | new generations | primary agent CPU | read | written | machine busy / load avg |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const l of loads)
    console.log(
      `| ${l.mb} MiB | ${l.padS.toFixed(1)} s | +${l.catchUpS.toFixed(1)} s | ${l.seconds.toFixed(1)} s${l.primaryLostAfterS !== null ? ' (cut: the primary lost its lease)' : l.wholeCycles ? ` (${l.bases} bases)` : ' (not whole cycles)'} | ${l.clientPerS.toFixed(0)} | ${Number.isNaN(l.directPerS) ? '–' : l.directPerS.toFixed(0)} | ${l.lagP50} ms | ${l.lagP99} ms | ${l.lagMax} ms (${l.samples}) | ${l.generations} | ${l.cpuPerMin.toFixed(2)} CPU s/min | ${l.readMBPerMin.toFixed(1)} MiB/min | ${l.writeMBPerMin.toFixed(1)} MiB/min | ${l.machineCpus.toFixed(2)} CPUs / ${l.loadAverage.toFixed(1)} |`,
    );
  console.log(
    `\nThe primary's agent per MiB of the service's log (the frames its replicator copied), over the load window:`,
  );
  console.log(
    `\n| database | log in the window | bases in the window | written (bases left out) | bases (the newest: its size / the log before it) | written in all | CPU |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const l of loads)
    console.log(
      `| ${l.mb} MiB | ${l.logMB.toFixed(0)} MiB | ${l.bases} (${l.basesMB.toFixed(0)} MiB) | ${l.writtenPerLog.toFixed(2)} MiB | ${l.basesPerLog.toFixed(2)} MiB (${l.newestBaseMB.toFixed(0)} / ${l.logBeforeBaseMB.toFixed(0)} MiB) | ${(l.writtenPerLog + l.basesPerLog).toFixed(2)} MiB | ${l.cpuPerLogMB.toFixed(3)} CPU s |`,
    );
  if (loads.length >= 2) {
    const [a, b] = [loads[0], loads.at(-1)!];
    const diff = (x: number, y: number) => `${y >= x ? '+' : ''}${(((y - x) / x) * 100).toFixed(0)} %`;
    console.log(
      `\nPrimary's agent at ${b.mb} MiB against ${a.mb} MiB, per minute of the window: CPU ${diff(a.cpuPerMin, b.cpuPerMin)}, I/O (read and written) ${diff(a.readMBPerMin + a.writeMBPerMin, b.readMBPerMin + b.writeMBPerMin)}, written ${diff(a.writeMBPerMin, b.writeMBPerMin)}, read ${a.readMBPerMin > 0 ? diff(a.readMBPerMin, b.readMBPerMin) : `${a.readMBPerMin.toFixed(1)} → ${b.readMBPerMin.toFixed(1)} MiB/min`}; per MiB of log: CPU ${diff(a.cpuPerLogMB, b.cpuPerLogMB)}, written (bases left out) ${diff(a.writtenPerLog, b.writtenPerLog)}, written in all ${diff(a.writtenPerLog + a.basesPerLog, b.writtenPerLog + b.basesPerLog)}.`,
    );
  }
  if (failovers.length > 0)
    console.log(
      '\n| database | synchronous | fault | trials | client writes/s before (median) | key taken after (median) | client RTO median / worst | acknowledged writes lost median / worst | oldest lost write, before the fault (worst) |',
    );
  if (failovers.length > 0) console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
  for (const f of failovers)
    for (const fault of ['crash', 'switchover'] as const) {
      const ts = f.results[fault];
      const rto = stats(ts.map((t) => t.rtoMs));
      const lost = stats(ts.map((t) => t.lost));
      const span = Math.max(0, ...ts.map((t) => t.lostSpanMs));
      const rate = stats(ts.map((t) => t.ratePerS)).median;
      const key = stats(ts.map((t) => t.keyMs)).median;
      console.log(
        `| ${f.mb} MiB | ${f.mode} | ${fault === 'crash' ? 'whole node killed' : 'switchover'} | ${ts.length} | ${rate} | ${(key / 1000).toFixed(2)} s | ${(rto.median / 1000).toFixed(2)} s / ${(rto.worst / 1000).toFixed(2)} s | ${lost.median} / ${lost.worst} | ${span ? `${span.toFixed(0)} ms` : '–'} |`,
      );
    }
  for (const f of failovers) {
    if (f.unplanned > 0 || f.unplannedLost > 0)
      console.log(
        `\n${f.mb} MiB, synchronous ${f.mode}: ${f.unplanned} failovers between the trials that no fault caused, ${f.unplannedLost} acknowledged writes lost outside the faults.`,
      );
    if (f.aborted) console.log(`\n${f.mb} MiB, synchronous ${f.mode}: the trials stopped at ${f.aborted}`);
  }
  const kills = series as KillSeries | null;
  if (kills) {
    const rto = stats(kills.rtos);
    console.log(
      `\nRandom kills (synchronous, ${RANDOM_KILL_SIZE_MB} MiB): ${kills.kills} whole-node kills of the primary, ${kills.lost} of ${kills.acked} acknowledged writes lost; client RTO median ${(rto.median / 1000).toFixed(2)} s, worst ${(rto.worst / 1000).toFixed(2)} s${kills.unplanned ? `; ${kills.unplanned} failovers no kill caused` : ''}${kills.aborted ? `; the series stopped at ${kills.aborted}` : ''}.`,
    );
  }
  for (const a of aborted) console.log(`\nAborted: ${a}`);
  console.log('\nreplication bench done');
  const incomplete = aborted.length > 0 || failovers.some((f) => f.aborted) || kills?.aborted;
  if (incomplete) process.exitCode = 2;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
