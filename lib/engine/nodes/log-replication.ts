// Log replication of the service's SQLite databases for the agent (docs/failover.md): while this node is primary,
// a replicator per database follows its log and answers the standbys' pulls (POST /v1/wal/pull) with the fencing
// token of its leadership; while it is a standby, a puller per database lays the primary's frames onto its copy.
// Each generation's base goes through the group's repository: the primary ships it, a standby that needs one
// restores the newest of the primary's, beside its database, and installs it.
//
// A primary that stops serving (a switchover, a failed service, a lost key) keeps answering pulls with the token of
// the leadership it had, from what its log held when the service stopped, until a newer primary is known: a
// standby taking over can still take the last frames of a primary whose agent is alive.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { databasePaths } from './data-shipping';
import type { ServiceConfig } from './agent-config';
import { type Primary, ReplicaPuller } from '../replication/puller';
import { BASE_LOG, type BaseFiles, Replicator, type ReplicatorFigures } from '../replication/replicator';
import type { WalPosition } from '../replication/wal-follower';
import { WalReplica } from '../replication/wal-replica';
import type { PullAnswer, PullRequest } from '../replication/wal-peer';

/** How often a replicator reads its database's log, and an idle puller asks again. */
const POLL_MS = 100;
/** A log this long (in frames, about 4 MB of 4 KB pages) is checkpointed by the replicator. */
const CHECKPOINT_FRAMES = 1000;
const WAITING_FOR_BASE = 'waiting for the primary to ship a base';
/** A new base of the generation is taken once the frames kept since the newest outgrow the database's size, or this
 *  if larger: above it, a base costs the primary as many bytes as the log written since the last (whatever the
 *  database's size: its cost follows the write rate), and a new standby downloads at most twice the database. */
const STORE_LIMIT_BYTES = 64 * 2 ** 20;
/** How long a primary holds a standby's pull for frames to come. */
const LONG_POLL_MS = 1000;
/** A replicator or puller that failed is started again after this long. */
const RETRY_MS = 1000;
/** A standby that finds no base for the primary it follows looks again after this long. */
const BASE_RETRY_MS = 2000;
/** How long a primary that stopped goes on answering pulls once a newer one took the key: longer than the newer
 *  one's wait for the last frames (the agent's CATCH_UP_MS). */
const HAND_ON_MS = 6000;

export interface LogReplicationHooks {
  /** Puts a generation's base in the group's repository (one at a time); resolves once it is there. */
  shipBase(db: string, base: BaseFiles): Promise<void>;
  /** Restores the newest base of `db` of `generation` (the primary's) into `dir` (a new directory beside the
   *  database); null when there is none yet. */
  fetchBase(db: string, generation: string, dir: string): Promise<BaseFiles | null>;
  /** The copy of `db` at `dbPath` is about to be replaced by a base: keep it aside where it must be. */
  beforeReplace(db: string, dbPath: string): Promise<void>;
  /** Says which standby is synchronous now (synchronousStandby; null: none, the group is asynchronous) where the
   *  other members read it (on etcd, with the primary's position); resolves once it is there, throws if it could
   *  not be said. */
  publishSynchronous(): Promise<void>;
  log(message: string): void;
  changed(): void;
}

export interface DatabaseReplication {
  db: string;
  role: 'primary' | 'standby';
  generation: string | null;
  /** The frame its log position is at (a count within the current log, not a total). */
  frame: number | null;
  /** Every transaction committed on the primary by this time is here (the primary's clock). */
  caughtUpAt: number | null;
  error: string | null;
  integrity: string | null;
  /** A standby's: how many logs of the primary's wait behind its copy's log, to be checkpointed into its file in
   *  turn (0 at rest; up to 16, then frames wait). Null on the primary. */
  waitingLogs: number | null;
  /** The primary's: what its replicator has written since it began (null on a standby). */
  written: ReplicatorFigures | null;
  /** The primary's: a new base is due, being taken, waiting to be shipped or being shipped (null on a standby). */
  baseUnderWay: boolean | null;
}

interface Database {
  db: string;
  dbPath: string;
  storeDir: string;
  replicator: Replicator | null;
  puller: ReplicaPuller | null;
  error: string | null;
  /** A base being fetched or installed for the copy. */
  fetching: boolean;
  /** Settles once the base being fetched (if any) is installed or given up. */
  fetchDone: Promise<void>;
  /** A base of the primary's waiting to be shipped, or being shipped. */
  shipping: boolean;
  /** integrity_check's word on a copy this node promoted: "ok", or the problems; null before (or never asked). */
  integrity: string | null;
}

export class LogReplication {
  private readonly dbs: Database[];
  /** The token of the leadership this node replicates as primary (kept after it stops serving, see above). */
  private leading: number | null = null;
  private primary: Primary | null = null;
  /** A newer primary known while this node still answers pulls of its own leadership (HAND_ON_MS). */
  private newer: Primary | null = null;
  private handingOn = false;
  private baseEveryMs = 0;
  private stopped = false;
  /** Bases shipped one at a time, the newest of each database only. */
  private shipping: Promise<void> = Promise.resolve();
  private readonly pendingBases = new Map<string, BaseFiles>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly options: {
      nodeId: string;
      stateDir: string;
      service: ServiceConfig;
      workers: { replicator: string; puller: string };
      hooks: LogReplicationHooks;
    },
  ) {
    const paths = databasePaths(options.service);
    this.dbs = options.service.sqlite.map((db, i) => ({
      db,
      dbPath: paths[i],
      storeDir: path.join(options.stateDir, 'replication', storeName(db)),
      replicator: null,
      puller: null,
      error: null,
      fetching: false,
      shipping: false,
      fetchDone: Promise.resolve(),
      integrity: null,
    }));
  }

  /** The token this node answers pulls with: its leadership's, while it replicates as primary. */
  get token(): number | null {
    return this.leading;
  }

  /** Replicates as primary of `token`: a replicator for each database (the service runs on them), beginning a new
   *  generation every `baseEveryMs`. With `checkIntegrity` (copies just promoted), SQLite's integrity_check runs on
   *  each, beside the service. */
  lead(token: number, baseEveryMs: number, checkIntegrity = false): void {
    // A new leadership names its synchronous standby afresh.
    if (this.leading !== token) {
      this.synchronous = null;
      this.degraded = false;
      this.acks.clear();
    }
    this.leading = token;
    this.servedUntil = null;
    this.baseEveryMs = baseEveryMs;
    this.primary = null;
    this.newer = null;
    for (const d of this.dbs) {
      void this.stopPuller(d);
      if (checkIntegrity) {
        d.integrity = null;
        // Copies just promoted: whatever this node kept of an earlier leadership's frames is of other data. A new
        // generation begins.
        if (!d.replicator) rmSync(d.storeDir, { recursive: true, force: true });
      }
      this.startReplicator(d, checkIntegrity);
    }
    this.options.hooks.changed();
  }

  /** The service stopped (this node hands over, or lost its role): reads each log to its end and keeps answering
   *  pulls from there. Resolves with the time the logs were read from (every transaction committed before it is
   *  kept), or null if a database's could not be read. */
  async flush(): Promise<number | null> {
    const times = await Promise.all(this.dbs.map((d) => d.replicator?.flush() ?? null));
    const at = times.some((t) => t === null) ? null : Math.min(...(times as number[]));
    // Its data ends there: the position this node publishes no longer grows with the rounds of its replicators.
    this.servedUntil = at;
    return at;
  }

  /** When a primary's service stopped, the time its logs were read to the end (flush): its data time from then. */
  private servedUntil: number | null = null;

  /** Follows `primary` as a standby (null: none known, or this node itself): a puller for each database. A
   *  leadership of this node's own older than the primary's ends here. */
  follow(primary: Primary | null): void {
    if (this.stopped) return;
    if (this.leading !== null) {
      // A newer primary takes its last frames from here while it catches up: this leadership ends after that.
      if (primary !== null && primary.token > this.leading && !this.handingOn) {
        this.handingOn = true;
        const ended = this.leading;
        this.later(() => {
          this.handingOn = false;
          // Unless this node leads again meanwhile.
          if (this.leading === ended) void this.stopLeading().then(() => this.follow(this.newer));
        }, HAND_ON_MS);
      }
      this.newer = primary;
      return;
    }
    const same = samePrimary(this.primary, primary);
    this.primary = primary;
    for (const d of this.dbs) {
      // A puller asks a new primary itself, for frames or for the generation of the base it needs.
      const puller = this.startPuller(d);
      if (!same) puller.follow(primary);
    }
  }

  /** Whether this node follows a primary (other than itself) now. */
  get following(): boolean {
    return this.primary !== null;
  }

  /** Stops replicating as primary. */
  async stopLeading(): Promise<void> {
    this.leading = null;
    await Promise.all(
      this.dbs.map(async (d) => {
        const replicator = d.replicator;
        d.replicator = null;
        await replicator?.stop();
      }),
    );
    this.options.hooks.changed();
  }

  /** Makes each copy a plain database for the service (this node takes over): its pullers stop. Returns where each
   *  copy ended (null: it had no base). */
  async promote(): Promise<{ db: string; position: WalPosition | null }[]> {
    this.primary = null;
    const ended = await Promise.all(this.dbs.map(async (d) => ({ db: d.db, position: await this.plainDatabase(d) })));
    this.options.hooks.changed();
    return ended;
  }

  /** Makes a database's copy a plain database (its puller stops): every log that waited behind its log checkpointed
   *  into it in order, and its note removed. Returns where it ended (null: it was no copy). */
  private async plainDatabase(d: Database): Promise<WalPosition | null> {
    const puller = d.puller;
    d.puller = null;
    // A base being fetched and installed ends first: never a copy half replaced.
    await d.fetchDone;
    if (puller) return puller.promote();
    // A copy no puller runs on (the agent restarted, and this node takes over before it follows anyone): on a
    // puller's thread all the same.
    const copy = new WalReplica(d.dbPath);
    if (copy.hasBase()) {
      const promoting = this.startPuller(d);
      d.puller = null;
      return promoting.promote();
    }
    // Not a copy (this node served it last): whatever copy's note is there goes, so that the files are never taken
    // for a copy once the service has written to them.
    await rm(copy.notePath, { force: true });
    return null;
  }

  /** Every transaction committed on the primary by this time is in this node's databases (the primary's clock);
   *  null until that is known for each of them. */
  dataTime(): number | null {
    if (this.leading !== null && this.servedUntil !== null) return this.servedUntil;
    let oldest: number | null = null;
    for (const d of this.dbs) {
      const at = this.leading !== null ? d.replicator?.caughtUpAt : d.puller?.caughtUpAt;
      if (at === null || at === undefined) return null;
      oldest = oldest === null ? at : Math.min(oldest, at);
    }
    return oldest;
  }

  /** Resolves true once dataTime() reaches `time`; false after `timeoutMs`, or (`untilUnreachable`) as soon as
   *  every puller has failed to reach the primary, or been told it is not the primary, since the call (nothing more
   *  will come). The pullers ask at once, not after the pause a failed pull left them in. */
  async reach(time: number, timeoutMs: number, untilUnreachable = false): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    const failed = new Set<ReplicaPuller>();
    if (this.dbs.every((d) => !d.puller)) return (this.dataTime() ?? 0) >= time;
    const listeners = this.dbs.flatMap((d) => {
      const puller = d.puller;
      if (!puller) return [];
      const onFailure = () => failed.add(puller);
      puller.on('error', onFailure);
      puller.on('not-primary', onFailure);
      puller.ask();
      return [
        () => {
          puller.off('error', onFailure);
          puller.off('not-primary', onFailure);
        },
      ];
    });
    try {
      while ((this.dataTime() ?? 0) < time) {
        if (Date.now() >= until || this.stopped) return false;
        if (untilUnreachable && listeners.length > 0 && failed.size === listeners.length) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return true;
    } finally {
      for (const off of listeners) off();
    }
  }

  view(): DatabaseReplication[] {
    return this.dbs.map((d) => {
      const primary = d.replicator !== null;
      const position = primary ? d.replicator!.position : (d.puller?.position ?? null);
      return {
        db: d.db,
        role: primary ? 'primary' : 'standby',
        generation: position?.generation ?? null,
        frame: position?.frame ?? null,
        caughtUpAt: (primary ? d.replicator!.caughtUpAt : d.puller?.caughtUpAt) ?? null,
        error: d.error,
        integrity: d.integrity,
        waitingLogs: primary ? null : (d.puller?.waitingLogs ?? 0),
        written: primary ? d.replicator!.figures : null,
        baseUnderWay: primary ? d.shipping || d.replicator!.baseUnderWay : null,
      };
    });
  }

  /** A standby's pull, answered from the replicator of its database; its position is the acknowledgment of
   *  member `by` (null: of nobody). */
  async answer(request: PullRequest, token: number, by: string | null): Promise<PullAnswer> {
    const d = this.dbs.find((x) => x.db === request.db);
    if (!d)
      return {
        kind: 'base-needed',
        token,
        why: `${request.db} is not a database this primary replicates`,
        generation: null,
      };
    const replicator = d.replicator;
    // Started again after an error: the standby asks again (its position may well still be kept).
    if (!replicator) throw new Error(`the replication of ${d.db} is starting again: ${d.error ?? 'try later'}`);
    // The position it pulls from is the standby's acknowledgment, taken as the pull arrives (the 'acked' event).
    return (await replicator.pull(request, token, by)).answer;
  }

  // --- synchronous replication (15.3) ----------------------------------------------------------------------

  /** Per standby, per database: every transaction committed before this time (this node's clock) is there. */
  private readonly acks = new Map<string, Map<string, number>>();
  private readonly ackWaiters = new Set<() => void>();
  /** The standby the primary named synchronous (on etcd, through hooks.publishSynchronous): only it counts, and
   *  only it may take the key. Null: none named yet, or the group degraded to asynchronous. */
  private synchronous: string | null = null;
  private degraded = false;
  /** The flush times of the last barrier: a standby past them, while degraded, is named again. */
  private lastBarrier: Map<string, number> | null = null;
  private naming: Promise<void> | null = null;
  private flushing: Promise<Map<string, number> | null> | null = null;
  private nextFlush: Promise<Map<string, number> | null> | null = null;

  /** While this node replicates as primary: the standby it named synchronous; null while it is degraded to
   *  asynchronous; undefined before it named any (no write was answered synchronously yet). A naming being
   *  published is said already: every position published from then on carries it. */
  get synchronousStandby(): string | null | undefined {
    if (this.leading === null) return undefined;
    if (this.publishing) return this.publishing.nodeId;
    return this.degraded ? null : (this.synchronous ?? undefined);
  }

  /** The naming being published (name()). */
  private publishing: { nodeId: string | null } | null = null;

  private acknowledge(nodeId: string, db: string, at: number): void {
    const dbs = this.acks.get(nodeId) ?? new Map<string, number>();
    if (at <= (dbs.get(db) ?? 0)) return;
    dbs.set(db, at);
    this.acks.set(nodeId, dbs);
    for (const wake of this.ackWaiters) wake();
    // Degraded: the first standby that holds everything of the last barrier is named synchronous again.
    if (this.degraded && this.lastBarrier && !this.naming && this.holdsAll(nodeId, this.lastBarrier)) {
      const naming = this.name(nodeId).catch((err: Error) =>
        this.options.hooks.log(`could not name ${nodeId} the synchronous standby: ${err.message}`),
      );
      this.naming = naming.finally(() => {
        this.naming = null;
      });
    }
  }

  private holdsAll(nodeId: string, times: Map<string, number>): boolean {
    const dbs = this.acks.get(nodeId);
    return dbs !== undefined && [...times].every(([db, time]) => (dbs.get(db) ?? 0) >= time);
  }

  /** Names `nodeId` the synchronous standby (null: degrades), one naming at a time: the barriers decide on it
   *  only once it is on etcd (a barrier waits for a naming under way, nameThen). */
  private name(nodeId: string | null): Promise<void> {
    const naming = this.namingDone.then(() => this.publishName(nodeId));
    this.namingDone = naming.catch(() => undefined);
    return naming;
  }

  private namingDone: Promise<void> = Promise.resolve();

  private async publishName(nodeId: string | null): Promise<void> {
    this.publishing = { nodeId };
    try {
      await this.options.hooks.publishSynchronous();
    } finally {
      this.publishing = null;
    }
    this.synchronous = nodeId;
    this.degraded = nodeId === null;
    this.options.hooks.log(
      nodeId === null
        ? 'synchronous replication degraded to asynchronous: no standby acknowledged in time'
        : `${nodeId} is the synchronous standby`,
    );
    this.options.hooks.changed();
  }

  /** Reads every database's log to its end, from a flush that begins after the call (calls share flushes). */
  private flushAfterNow(): Promise<Map<string, number> | null> {
    if (!this.flushing) {
      const flush = (async () => {
        const times = new Map<string, number>();
        for (const d of this.dbs) {
          const at = await d.replicator?.flush();
          if (at === null || at === undefined) return null;
          times.set(d.db, at);
        }
        return times;
      })();
      this.flushing = flush.finally(() => {
        this.flushing = null;
      });
      return this.flushing;
    }
    this.nextFlush ??= this.flushing.then(() => {
      this.nextFlush = null;
      return this.flushAfterNow();
    });
    return this.nextFlush;
  }

  /** The barrier of synchronous replication: resolves "synced" once the synchronous standby (or, with none named,
   *  the first standby, which is then named) holds every transaction committed before the call. Past `boundMs`
   *  without: "degraded" (mode "on": the group is said asynchronous first, then the caller goes on), or "waiting"
   *  (mode "strict", or this node does not lead: the caller must not go on). While degraded, "degraded" at once. */
  async barrier(mode: 'on' | 'strict', boundMs: number): Promise<'synced' | 'degraded' | 'waiting'> {
    if (this.leading === null) return 'waiting';
    const started = Date.now();
    // The logs read to their end, within the bound: a replicator that is down (or stuck) replicates nothing.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<null>((r) => {
      timer = setTimeout(r, boundMs, null);
    });
    const times = await Promise.race([this.flushAfterNow(), bound]).finally(() => clearTimeout(timer));
    if (!times) return mode === 'on' && this.leading !== null ? this.degrade() : 'waiting';
    this.lastBarrier = times;
    // A naming under way decides what counts: its outcome on etcd, not what it may become.
    await this.namingDone;
    if (this.degraded && mode === 'on') return 'degraded';
    const named = this.synchronous;
    // The one named, within the bound; past it, any other standby that holds as much takes its place (the one
    // named is gone, or too slow), before the group is said asynchronous (or, strict, writes wait).
    const who =
      (await this.firstToHold(times, named, Math.max(0, boundMs - (Date.now() - started)))) ??
      (named !== null ? await this.firstToHold(times, null, 0) : null);
    if (who) {
      // Named (on etcd) before the caller goes on: only that standby may take the key from then.
      if (who !== named) {
        try {
          await this.name(who);
        } catch {
          return 'waiting';
        }
      }
      return 'synced';
    }
    if (mode === 'strict' || this.leading === null) return 'waiting';
    return this.degrade();
  }

  /** Says the group asynchronous (on etcd) before the caller goes on. */
  private async degrade(): Promise<'degraded' | 'waiting'> {
    try {
      if (!this.degraded) await this.name(null);
    } catch {
      return 'waiting';
    }
    return 'degraded';
  }

  /** The standby (`only`, or any) that first holds everything up to `times`, within `boundMs`; null if none. */
  private async firstToHold(times: Map<string, number>, only: string | null, boundMs: number): Promise<string | null> {
    const find = () => {
      if (only !== null) return this.holdsAll(only, times) ? only : null;
      for (const nodeId of this.acks.keys()) if (this.holdsAll(nodeId, times)) return nodeId;
      return null;
    };
    let found = find();
    if (found) return found;
    await new Promise<void>((resolve) => {
      const wake = () => {
        found = find();
        if (found) done();
      };
      const timer = setTimeout(() => done(), boundMs);
      const done = () => {
        clearTimeout(timer);
        this.ackWaiters.delete(wake);
        resolve();
      };
      this.ackWaiters.add(wake);
    });
    return found;
  }

  /** Stops every thread. With `forGood` (the group no longer replicates its log), a standby's copies stop being
   *  copies: each becomes a plain database (the logs that waited behind its log in it, its note gone), so that
   *  nothing of it is lost until shipped copies replace it, and it is never taken up again as a copy. */
  async stop(forGood = false): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    // A primary's databases are the service's own, in use: never copies.
    const standby = this.leading === null;
    await this.stopLeading();
    this.primary = null;
    await Promise.all(this.dbs.map((d) => (forGood && standby ? this.plainDatabase(d) : this.stopPuller(d))));
  }

  // --- internals -------------------------------------------------------------------------------------------

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(timer);
  }

  private startReplicator(d: Database, checkIntegrity = false): void {
    if (d.replicator || this.stopped) return;
    const replicator = new Replicator(this.options.workers.replicator, {
      dbPath: d.dbPath,
      shownAs: d.db,
      storeDir: d.storeDir,
      pollMs: POLL_MS,
      checkpointFrames: CHECKPOINT_FRAMES,
      checkIntegrity,
      baseEveryMs: this.baseEveryMs,
      storeLimitBytes: STORE_LIMIT_BYTES,
    });
    d.replicator = replicator;
    replicator.on('acked', (nodeId, at) => this.acknowledge(nodeId, d.db, at));
    replicator.on('integrity', (result) => {
      d.integrity = result.ok ? 'ok' : result.problems.join('; ');
      this.options.hooks.log(
        `${d.db}: integrity_check after the promotion: ${result.ok ? 'ok' : `PROBLEMS: ${d.integrity}`}`,
      );
      this.options.hooks.changed();
    });
    replicator.on('slow', ({ ms, steps }) =>
      this.options.hooks.log(
        `${d.db}: a round of its replication took ${ms} ms${steps.length ? ` (${steps.join(', ')})` : ''}: standbys waited`,
      ),
    );
    replicator.on('position', () => {
      if (d.error) {
        d.error = null;
        this.options.hooks.changed();
      }
    });
    replicator.on('base', (base) => {
      this.options.hooks.log(`${d.db}: a base of generation ${base.position.generation} (${base.why}): shipping it`);
      this.shipBase(d, base);
    });
    replicator.on('error', (err) => {
      d.error = err.message;
      this.options.hooks.log(`${d.db}: replication stopped: ${err.message}`);
      this.options.hooks.changed();
      // A thread that failed has ended: again, while this node still leads.
      if (d.replicator === replicator) d.replicator = null;
      void replicator.stop().catch(() => undefined);
      this.later(() => {
        if (this.leading !== null) this.startReplicator(d, checkIntegrity && d.integrity === null);
      }, RETRY_MS);
    });
  }

  private shipBase(d: Database, base: BaseFiles): void {
    this.pendingBases.set(d.db, base);
    d.shipping = true;
    this.shipping = this.shipping.then(async () => {
      const next = this.pendingBases.get(d.db);
      if (!next || this.stopped) {
        d.shipping = false;
        return;
      }
      this.pendingBases.delete(d.db);
      let retrying = false;
      try {
        await this.options.hooks.shipBase(d.db, next);
        d.replicator?.shipped(next);
        this.options.hooks.log(`${d.db}: the base of generation ${next.position.generation} is in the repository`);
      } catch (err) {
        d.error = `its base could not be shipped: ${(err as Error).message}`;
        this.options.hooks.log(`${d.db}: ${d.error}`);
        this.options.hooks.changed();
        // Again later, unless a newer one came meanwhile, or this node no longer leads; under way until then.
        retrying = true;
        this.later(() => {
          const current = d.replicator?.generation === next.position.generation;
          if (!this.pendingBases.has(d.db) && current && this.leading !== null && !this.newer) this.shipBase(d, next);
          else d.shipping = this.pendingBases.has(d.db);
        }, BASE_RETRY_MS);
      } finally {
        if (!retrying) d.shipping = this.pendingBases.has(d.db);
      }
    });
  }

  private startPuller(d: Database): ReplicaPuller {
    if (d.puller) return d.puller;
    const puller = new ReplicaPuller(this.options.workers.puller, {
      nodeId: this.options.nodeId,
      db: d.db,
      dbPath: d.dbPath,
      pollMs: POLL_MS,
      waitMs: LONG_POLL_MS,
      timeoutMs: 5000,
    });
    d.puller = puller;
    puller.follow(this.primary);
    puller.on('position', () => {
      if (d.error) d.error = null;
      this.options.hooks.changed();
    });
    puller.on('base-needed', (why, generation) => {
      this.options.hooks.log(`${d.db}: a base is needed (${why})`);
      void this.fetchBase(d, puller, generation);
    });
    puller.on('slow', ({ ms, beside }) =>
      this.options.hooks.log(
        beside
          ? `${d.db}: checkpointing its copy's log took ${ms} ms, on a thread of its own: frames went on being laid down`
          : `${d.db}: laying frames down on its copy took ${ms} ms: it fell behind meanwhile`,
      ),
    );
    puller.on('not-primary', (why) => {
      d.error = `the node followed is not the primary: ${why}`;
      this.options.hooks.changed();
    });
    puller.on('error', (err) => {
      d.error = err.message;
      this.options.hooks.changed();
    });
    return puller;
  }

  private async stopPuller(d: Database): Promise<void> {
    const puller = d.puller;
    d.puller = null;
    await puller?.stop();
  }

  /** Restores the newest base of `generation` (the primary's) of `d` beside it and installs it. Where there is none
   *  (or it could not be had), the puller asks the primary again later: for the generation it has then. */
  private fetchBase(d: Database, puller: ReplicaPuller, generation: string | null): Promise<void> {
    if (d.fetching) return d.fetchDone;
    d.fetching = true;
    d.fetchDone = this.fetchBaseOnce(d, puller, generation).finally(() => {
      d.fetching = false;
    });
    return d.fetchDone;
  }

  private async fetchBaseOnce(d: Database, puller: ReplicaPuller, generation: string | null): Promise<void> {
    const dir = path.join(path.dirname(d.dbPath), `.lifeline-base-${storeName(d.db)}`);
    // A puller replaced, or no primary to follow (a new one is asked by the puller itself): nothing to do.
    const current = () => d.puller === puller && this.primary !== null;
    const askAgain = () => this.later(() => current() && puller.ask(), BASE_RETRY_MS);
    try {
      // Only from a primary other than this node: a node that served last keeps its own data.
      if (!current()) return;
      const base = generation && (await this.fetchInto(d, generation, dir));
      if (!base) {
        if (d.error !== WAITING_FOR_BASE) this.options.hooks.log(`${d.db}: ${WAITING_FOR_BASE}`);
        d.error = WAITING_FOR_BASE;
        this.options.hooks.changed();
        askAgain();
        return;
      }
      if (!current()) return;
      await this.options.hooks.beforeReplace(d.db, d.dbPath);
      // The base's log part goes beside its file under the name SQLite gives a log, as the copy keeps it.
      const baseFile = path.join(base.baseDir, 'base.db');
      if (base.position.log !== null && !base.logInFile)
        await rename(path.join(base.baseDir, BASE_LOG), `${baseFile}-wal`);
      await puller.installBase(baseFile, base.position, base.logInFile);
      this.options.hooks.log(
        `${d.db}: installed a base of generation ${base.position.generation} (${base.logInFile ? 'its file alone, at the end of a log it holds' : `frame ${base.position.frame} of its log`})`,
      );
    } catch (err) {
      d.error = `a base could not be installed: ${(err as Error).message}`;
      this.options.hooks.log(`${d.db}: ${d.error}`);
      this.options.hooks.changed();
      askAgain();
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async fetchInto(d: Database, generation: string, dir: string): Promise<BaseFiles | null> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return this.options.hooks.fetchBase(d.db, generation, dir);
  }
}

function samePrimary(a: Primary | null, b: Primary | null): boolean {
  return a?.url === b?.url && a?.token === b?.token && a?.groupKey === b?.groupKey;
}

/** A database's name as a file name of its own: readable, and distinct for distinct names. */
function storeName(db: string): string {
  const readable = db.replace(/[^\w.-]+/g, '_').slice(0, 60);
  return `${readable}-${createHash('sha256').update(db).digest('hex').slice(0, 8)}`;
}
