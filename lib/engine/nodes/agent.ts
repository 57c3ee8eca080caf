// The agent's brain: its role and epoch, the primary's lease, the guarded service, and warm-standby shipping.
// Safety rules, in one place:
// - the service runs only on a primary promoted with an epoch newer than any this node has seen;
// - a primary keeps serving only while its lease runs; past it, it serves on (failsafe) only while every peer
//   confirms that it has not heard from the control plane either (the control plane is down, not cut off from
//   this node alone); otherwise it stops its service, because a standby may be promoted (primary-lease.ts);
// - the agent never starts the service on its own account (after a restart it waits to be promoted);
// - role changes (heartbeats, promote, demote) never wait behind data work (shipping, applying, drills, jobs),
//   and a lapsed lease stops the service directly: a hung storage call cannot keep a fenced primary serving.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { runBackup } from '../backup/run-backup';
import { EngineError } from '../errors';
import { runHook } from '../run-hook';
import { backupResultData, restoreResultData } from '../job-results';
import { Repository } from '../repository/repository';
import { type RestoreResult, runRestore } from '../restore/run-restore';
import { underReaderLock } from '../repository/lock';
import { AgentCoordination, type EtcdConnection, type GroupView } from '../coordination/agent-coordination';
import { FollowingEndpoint } from '../coordination/following-endpoint';
import { type DataPart, GROUP_SETTINGS_DEFAULTS, groupPrefix } from '../coordination/group-keys';
import { WatchdogClient } from '../coordination/watchdog-client';
import { AgentJobs, type AgentJobRequest, type AgentJobView } from './agent-jobs';
import type { AgentConfig, EtcdSettings } from './agent-config';
import type { AgentStatus, DrillResult, HeartbeatRequest, Role, ServiceState } from './agent-protocol';
import { BASE_TAG, baseDbTag, generationTag, shipSourceKey } from './agent-protocol';
import { readState, stopLeftover, writeState, type PersistedState } from './agent-state';
import {
  applyShipped,
  applyShippedChanges,
  dataPaths,
  epochTag,
  keptName,
  shipData,
  ShipSnapshots,
} from './data-shipping';
import { LogReplication } from './log-replication';
import { readBase, type BaseFiles } from '../replication/replicator';
import type { PullRequest, WalPeerSource } from '../replication/wal-peer';
import { openForNode, openGroupKey } from './group-key';
import { peersConfirmOutage } from './failsafe';
import { PrimaryLease, QUESTION_TIMEOUT_MS } from './primary-lease';
import { HttpStorage } from './http-storage';
import { exposedWarning } from './listen-check';
import { ServiceLog } from './service-log';
import { runDrill } from './run-drill';
import { groupRepositoryPassword, nodeRepositoryPassword } from './tenants';
import {
  checkServiceHealth,
  serviceArgv,
  startService,
  stopService,
  type RunningService,
  type ServiceExit,
} from './service-supervisor';

export class AgentRefusal extends Error {}

/** Beyond the end of a failsafe extension this node allowed: the asker's next lease check (every 200 ms) and the
 *  stop of its service. */
const VOUCH_MARGIN_MS = 500;
/** How long a standby taking the leader key on etcd may spend applying the newest shipped data before serving. */
const CATCH_UP_MS = 3000;

export class Agent {
  private state: PersistedState;
  /** The state file's writes, in turn (save). */
  private saving: Promise<void> = Promise.resolve();
  private readonly lease = new PrimaryLease();
  /** What the status last said of failsafe, so that a change is announced once. */
  private failsafe = false;
  private lastHeardControlPlane = 0;
  /** When this node last confirmed a peer's failsafe question, and the longest lease it knew then: a primary may
   *  serve on that word for half a lease, so this node must not serve until then (promote). */
  private vouched: { at: number; leaseMs: number } | null = null;
  /** On etcd: until when this node promised a primary cut off from etcd not to serve (failsafeAnswerOnEtcd). */
  private vouchedUntil: number | null = null;
  /** Promotions under way: from the arrival of one, this node confirms nobody's outage. */
  private promoting = 0;
  /** Starts as primary on etcd under way (becomePrimary), from the key taken to the service running. */
  private becoming = 0;
  private heartbeat: (HeartbeatRequest & { key: string }) | null = null;
  private service: RunningService | null = null;
  private serviceState: ServiceState = 'stopped';
  private healthy = false;
  /** The service's stdout and stderr, kept in the state directory (rotated, capped). */
  private readonly serviceLog: ServiceLog;
  /** The service listens on every interface (listen-check.ts): said in the status and the log. */
  private exposed: string | null = null;
  private lastExit: ServiceExit | null = null;
  private lastShipAt: number | null = null;
  private lastError: string | null = null;
  /** Why this agent stopped its own service as primary (its lease ran out). Reported in place of lastError until
   *  the service runs again or the node's role changes: a data round that ends later must not wipe out the
   *  reason. */
  private fencedWhy: string | null = null;
  private version = 0;
  private readonly waiters = new Set<() => void>();
  /** Role changes, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Data work (ship, apply, drill, restore), one at a time, on its own queue; a promotion aborts it. */
  private dataQueue: Promise<unknown> = Promise.resolve();
  private dataAbort: AbortController | null = null;
  private dataCurrent: Promise<unknown> = Promise.resolve();
  /** A service stop under way (resolved when none is). */
  private stopping: Promise<void> = Promise.resolve();
  private restoringInPlace = false;
  private repo: Promise<Repository> | null = null;
  /** The failover group's repository (tenants.ts), for the group and key it was opened with. */
  private groupRepo: { groupId: string; key: string; repo: Promise<Repository> } | null = null;
  private readonly ships = new ShipSnapshots();
  private timers: NodeJS.Timeout[] = [];
  private healthTimer: NodeJS.Timeout | null = null;
  private checkingLease = false;
  private dataRound = false;
  private lastDataRound = 0;
  private controlPlane: string;
  /** Coordination on etcd (when the config has it): roles come from the group's leader key, not from heartbeats. */
  private coordination: AgentCoordination | null = null;
  private etcdConnection: EtcdConnection | null = null;
  /** The endpoint beside this agent (its config's `endpoint`). */
  private endpoint: FollowingEndpoint | null = null;
  private watchdog: WatchdogClient | null = null;
  private failedChecks = 0;
  /** This run of failed checks was reported to the coordination (serviceFailed). */
  private saidDown = false;
  /** The data sets kept from when this node was fenced (<stateDir>/replaced/), with their sizes. */
  private kept: { name: string; bytes: number }[] = [];
  /** The lease check of coordination by the dashboard (none on etcd). */
  private leaseTimer: NodeJS.Timeout | null = null;
  /** The group as etcd last described it. */
  private group: GroupView | null = null;
  /** Log replication of the service's databases, while the group on etcd asks for it (log-replication.ts). */
  private replication: LogReplication | null = null;
  /** Where the databases replaced by bases go while keepNextReplaced holds, and which went there. */
  private keptAside: { dir: string; parts: Set<string> } | null = null;
  readonly jobs = new AgentJobs();

  constructor(readonly config: AgentConfig) {
    this.state = readState(config.stateDir);
    this.controlPlane = config.controlPlane;
    this.serviceLog = new ServiceLog(path.join(config.stateDir, 'service.log'));
  }

  /** The service's output as the node keeps it: the file, and its last `bytes`. */
  async serviceOutput(bytes = 16 * 1024): Promise<{ file: string; tail: string }> {
    const n = Math.max(1, Math.min(Math.floor(bytes) || 16 * 1024, 256 * 1024));
    return { file: this.serviceLog.file, tail: await this.serviceLog.tail(n) };
  }

  async start(): Promise<void> {
    await mkdir(this.config.stateDir, { recursive: true, mode: 0o700 });
    if (this.secretRevoked())
      console.error(
        `${this.config.node}: this config's secret was revoked when the node's credentials were rotated: requests signed with it are refused; install the config the dashboard issued`,
      );
    await stopLeftover(this.state.servicePid, serviceArgv(this.config.service));
    await this.refreshKept();
    this.state.servicePid = null;
    await writeState(this.config.stateDir, this.state);
    if (this.config.endpoint) await this.startEndpoint(this.config.endpoint.listen);
    const etcd = this.config.etcd ?? this.state.etcd;
    if (etcd) await this.startCoordination(etcd, null);
    else this.leaseTimer = setInterval(() => void this.checkLease().catch(() => undefined), 200);
    this.scheduleHealthCheck();
    this.timers.push(setInterval(() => void this.dataTick(), 250));
  }

  /** Moves this node from the dashboard's coordinator to etcd, for good (kept in its state). A primary that serves
   *  goes on serving: it takes the leader key first, with no failover, and stops if it cannot within its lease. */
  coordinateOnEtcd(req: {
    endpoints: string[];
    root: string;
    username?: string;
    sealedPassword?: string;
  }): Promise<AgentStatus> {
    return this.exclusive(async () => {
      const etcd: EtcdSettings = {
        endpoints: req.endpoints,
        root: req.root,
        ...(req.username && req.sealedPassword
          ? { username: req.username, password: openForNode(this.config.secret, req.sealedPassword) }
          : {}),
      };
      if (this.coordination) {
        if (JSON.stringify(etcd) === JSON.stringify(this.config.etcd ?? this.state.etcd)) return this.status();
        throw new AgentRefusal(`${this.config.node} coordinates on etcd already, with other settings`);
      }
      // The watchdog first: until it runs, the lease of the dashboard's coordinator goes on guarding the service.
      await this.startWatchdog();
      await this.save({ etcd });
      if (this.leaseTimer) clearInterval(this.leaseTimer);
      this.leaseTimer = null;
      const serving = this.state.role === 'primary' && this.service !== null;
      await this.startCoordination(etcd, serving ? { remainingMs: this.lease.remainingMs } : null);
      return this.status();
    });
  }

  /** Starts the watchdog beside this agent, then the leader loop on etcd. */
  /** Starts the watchdog beside this agent, and waits until it listens (or fails, saying why). */
  private async startWatchdog(): Promise<WatchdogClient> {
    if (this.watchdog) return this.watchdog;
    // The CLI bundle sits in dist/ beside the watchdog built with it.
    const script = path.join(__dirname, 'watchdog.cjs');
    if (!existsSync(script))
      throw new EngineError('invalid-argument', `the watchdog ${script} is missing: run npm run build:engine`);
    const watchdog = new WatchdogClient(script, (event) => {
      if (event.type === 'killed') console.error(`${this.config.node}: the watchdog killed the service: ${event.why}`);
      if (event.type === 'exited' && this.watchdog === watchdog) {
        // Only the agent's own deadline guards the service now; the next start of the service has a new one.
        console.error(`${this.config.node}: the watchdog exited (${event.signal ?? `code ${event.code}`})`);
        this.watchdog = null;
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AgentRefusal('the watchdog did not start within 10 s')), 10_000);
    });
    try {
      await Promise.race([watchdog.ready, late]);
    } catch (err) {
      watchdog.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.watchdog = watchdog;
    return watchdog;
  }

  /** The endpoint beside this agent (its config's `endpoint`): it listens at once, and routes once this node
   *  is in a group on etcd. */
  private async startEndpoint(listen: string): Promise<void> {
    const at = listen.lastIndexOf(':');
    const endpoint = new FollowingEndpoint(
      { host: listen.slice(0, at), port: Number(listen.slice(at + 1)) },
      (route, why) => {
        console.error(
          `${this.config.node}: endpoint ${route ? `routing to ${route.holder} (token ${route.token})` : `not routing: ${why}`}`,
        );
        this.changed();
      },
    );
    await endpoint.start().catch((err: Error) => {
      throw new EngineError('io', `the endpoint cannot listen on ${listen}: ${err.message}`);
    });
    this.endpoint = endpoint;
  }

  private async startCoordination(etcd: EtcdSettings, incumbent: { remainingMs: number } | null): Promise<void> {
    const watchdog = await this.startWatchdog();
    this.etcdConnection = {
      endpoints: etcd.endpoints,
      root: etcd.root,
      ...(etcd.username && etcd.password ? { auth: { username: etcd.username, password: etcd.password } } : {}),
    };
    this.coordination = new AgentCoordination(
      this.etcdConnection,
      this.config.nodeId,
      this.config.secret,
      {
        // The time of the data this node holds as shipped: a primary's last ship, a standby's last apply. A
        // standby's lag is then what it missed of what was shipped, whatever the shipping interval.
        position: () => this.dataTime() ?? 0,
        becomePrimary: (epoch, onSpawn, requireDataTime) => this.becomePrimary(epoch, onSpawn, requireDataTime),
        handOver: (onSpawn) => this.handOver(onSpawn),
        stepDown: (why) => this.stepDown(why),
        // A service stopped on purpose (an in-place restore) is not a failure to give the key up for.
        serving: () =>
          this.service !== null || this.serviceState === 'starting' || this.restoringInPlace || this.becoming > 0,
        setGroup: (group) =>
          void this.followGroup(group).catch((err: Error) =>
            console.error(`${this.config.node}: could not follow its group: ${err.message}`),
          ),
        log: (message) => console.error(`${this.config.node}: ${message}`),
        drill: () => this.drill(),
        synchronousStandby: () => this.synchronousStandby(),
      },
      watchdog,
      incumbent,
    );
    this.coordination.start();
  }

  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.healthTimer = null;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.changed();
    this.dataAbort?.abort();
    this.jobs.cancelAll();
    // No more elections from here, then the service stops, and only then is the key given up for a standby.
    this.coordination?.halt();
    await this.exclusive(() => this.stopOwnService());
    await this.coordination?.stop();
    await this.replication?.stop();
    await this.endpoint?.stop();
    // Its exit is expected now: not reported as a loss.
    const watchdog = this.watchdog;
    this.watchdog = null;
    watchdog?.disarm();
    watchdog?.close();
  }

  status(): AgentStatus {
    return {
      node: this.config.node,
      nodeId: this.config.nodeId,
      role: this.state.role,
      epoch: this.state.epoch,
      leaseRemainingMs: this.coordination
        ? this.coordination.remainingMs
        : this.state.role === 'primary'
          ? this.lease.remainingMs
          : 0,
      coordination: this.coordination ? 'etcd' : 'dashboard',
      failsafe: this.coordination ? this.coordination.inFailsafe : this.failsafe,
      timings: this.coordination?.timings ?? null,
      endpoint: this.endpoint && {
        address: this.config.endpoint!.listen,
        routesTo: this.endpoint.route?.holder ?? null,
      },
      service: {
        state: this.serviceState,
        pid: this.service?.child.pid ?? null,
        address: `${this.config.service.host}:${this.config.service.port}`,
        health: this.config.service.health,
        healthy: this.healthy,
        exposed: this.exposed,
        lastExit: this.lastExit,
      },
      data: {
        snapshot: this.state.snapshot,
        dataTime: this.dataTime(),
        // With log replication, a primary ships as its replicators read its logs.
        lastShipAt:
          this.replication && this.state.role === 'primary'
            ? (this.replication.dataTime() ?? this.lastShipAt)
            : this.lastShipAt,
        lastError: this.fencedWhy ?? this.lastError ?? this.replicationError() ?? this.coordination?.lastError ?? null,
        kept: this.kept,
        replication: this.replication?.view() ?? null,
      },
      version: this.version,
    };
  }

  /** Whether this node serves as its group's primary now: it holds the role (on etcd: the leader key, with time
   *  left before its deadline; else a lease that runs), and its service runs and passed its last health check. */
  servesAsPrimary(): boolean {
    if (this.state.role !== 'primary' || !this.service || this.serviceState !== 'running' || !this.healthy)
      return false;
    if (this.coordination) return this.coordination.isLeader && this.coordination.remainingMs > 0;
    return this.lease.valid(Date.now()) || this.failsafe;
  }

  /** Resolves when the state changes past `since`, or after `timeoutMs`. */
  async watch(since: number, timeoutMs: number): Promise<AgentStatus> {
    if (this.version > since) return this.status();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
    return this.status();
  }

  onHeartbeat(req: HeartbeatRequest, leaseUntil: number): Promise<AgentStatus> {
    this.lastHeardControlPlane = Date.now();
    // On etcd the group's leader key decides roles: a heartbeat is only a question.
    if (this.coordination) return Promise.resolve(this.status());
    return this.exclusive(async () => {
      // Peers, group key, intervals and the control plane's address are taken from any authentic heartbeat;
      // its role instruction only when it is not older than this node's epoch (one sent before a promotion
      // and arriving after it must not undo it).
      this.heartbeat = { ...req, key: openGroupKey(this.config.secret, req.groupKey) };
      if (req.controlPlane && req.controlPlane !== this.controlPlane) {
        this.controlPlane = req.controlPlane;
        this.repo = null;
        this.groupRepo = null;
      }
      if (this.state.groupId !== req.groupId) await this.save({ groupId: req.groupId });
      if (req.epoch < this.state.epoch) return this.status();
      if (req.role === 'primary' && this.state.role === 'primary' && req.epoch === this.state.epoch) {
        this.lease.grant(Math.min(leaseUntil, Date.now() + req.leaseMs), req.leaseMs);
        if (this.failsafe) {
          this.failsafe = false;
          this.changed();
        }
      } else if (req.role === 'standby' && (this.state.role === 'primary' || req.epoch > this.state.epoch)) {
        await this.stopOwnService();
        await this.save({
          role: 'standby',
          epoch: req.epoch,
          keepNextReplaced: this.state.keepNextReplaced || this.state.role === 'primary',
        });
      }
      return this.status();
    });
  }

  promote(epoch: number, leaseMs: number): Promise<AgentStatus> {
    if (this.coordination) return Promise.reject(this.etcdRefusal());
    this.promoting++;
    return this.exclusive(async () => {
      if (epoch <= this.state.epoch)
        throw new AgentRefusal(`epoch ${epoch} is not newer than this node's ${this.state.epoch}`);
      if (this.restoringInPlace)
        throw new AgentRefusal('an in-place restore is running on this node: promote another one');
      // A primary this node told that the control plane was gone may serve on that word for half a lease: the
      // service starts only once every such extension has run out (and the primary's next check has stopped it).
      if (this.vouched) {
        const wait = this.vouched.at + Math.max(this.vouched.leaseMs, leaseMs) / 2 + VOUCH_MARGIN_MS - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      // An apply may be replacing the data files: stop it (it leaves the previous copy whole) and let it end.
      // Bounded: a restore job waiting for this queue must not hold the promotion up for ever.
      this.dataAbort?.abort();
      await Promise.race([this.dataCurrent, new Promise((r) => setTimeout(r, 5000))]);
      await this.save({ role: 'primary', epoch, appliedSnapshot: null });
      this.failsafe = false;
      // Set before the service starts too: the lease check must not find an old, lapsed lease on it.
      this.lease.reset();
      this.lease.grant(Date.now() + leaseMs, leaseMs);
      // The first ship waits a moment, until the control plane has recorded this node as the primary.
      this.lastDataRound = Date.now() - (this.heartbeat?.shippingIntervalMs ?? 0) + 1000;
      if (!this.service) {
        try {
          this.serviceState = 'starting';
          this.changed();
          await this.runService();
        } catch (err) {
          this.serviceState = 'stopped';
          await this.save({ role: 'standby' });
          throw err;
        }
      }
      // The lease runs from the moment the service serves, so a slow start does not eat it.
      this.lease.grant(Date.now() + leaseMs, leaseMs);
      return this.status();
    }).finally(() => {
      this.promoting--;
    });
  }

  demote(epoch: number): Promise<AgentStatus> {
    if (this.coordination) return Promise.reject(this.etcdRefusal());
    return this.exclusive(async () => {
      if (epoch < this.state.epoch)
        throw new AgentRefusal(`epoch ${epoch} is older than this node's ${this.state.epoch}`);
      await this.stopOwnService();
      await this.save({
        role: 'standby',
        epoch,
        keepNextReplaced: this.state.keepNextReplaced || this.state.role === 'primary',
      });
      return this.status();
    });
  }

  private etcdRefusal(): AgentRefusal {
    return new AgentRefusal(
      `${this.config.node} follows its group's leader key in etcd: it takes or gives up the primary role itself`,
    );
  }

  /** Taking the leader key on etcd: catches up on the newest shipped data (within CATCH_UP_MS), then serves. */
  private becomePrimary(
    epoch: number,
    onSpawn: (pgid: number) => void,
    requireDataTime?: number,
  ): Promise<{ dataTime: number | null; parts: DataPart[] | null }> {
    // From here until the service runs (or the start fails) the node is starting as primary, not down: it may wait
    // in the queue, catch up, and wait out a failsafe promise it made first.
    this.becoming++;
    this.changed();
    return this.exclusive(async () => {
      if (this.restoringInPlace) throw new AgentRefusal('an in-place restore is running on this node');
      // Only the node that served the newest epoch may serve its own data as it is: it holds writes that were never
      // shipped. Any other catches up first.
      const newest = this.state.role === 'primary' && this.state.epoch >= (this.heartbeat?.epoch ?? 0);
      const replication = this.replication;
      const followed = replication?.following === true;
      if (!newest && followed) {
        // The databases: the frames the primary still has (its agent answers while it lives, also once its service
        // stopped), up to the previous primary's last data in a switchover; then the copies become plain files.
        const caughtUp = await replication.reach(
          requireDataTime ?? Date.now(),
          CATCH_UP_MS,
          requireDataTime === undefined,
        );
        if (!caughtUp && requireDataTime !== undefined)
          throw new AgentRefusal("the previous primary's last frames have not been applied here yet");
        if (!caughtUp)
          console.error(`${this.config.node}: takes over without the primary's last frames (it is out of reach)`);
      }
      if (!newest && this.heartbeat && (!replication || this.config.service.paths.length > 0)) {
        let done = false;
        const catchUp = this.dataExclusive((signal) => this.apply(undefined, signal, 'newest'))
          .catch((err: Error) => {
            // It serves on the data it has, within the group's maximum lag: the apply may fail because the
            // storage API is away with the dashboard, and a failover must not wait for that.
            console.error(`${this.config.node}: could not apply the newest shipped data first: ${err.message}`);
          })
          .finally(() => {
            done = true;
          });
        const timer = setTimeout(() => this.dataAbort?.abort(), CATCH_UP_MS);
        await Promise.race([catchUp.catch(() => undefined), new Promise((r) => setTimeout(r, CATCH_UP_MS + 5000))]);
        clearTimeout(timer);
        // An apply that did not stop may still be replacing the data files: no service on them.
        if (!done) throw new AgentRefusal('the data being applied did not stop in time');
      }
      // A primary cut off from etcd may serve on this node's word until then: the service waits for it (holding
      // the key meanwhile, this node answers that it is primary, so that primary stops).
      if (this.vouchedUntil) {
        const wait = this.vouchedUntil + VOUCH_MARGIN_MS - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      // The key may have been lost while catching up: no service then.
      if (this.coordination && !this.coordination.isLeader)
        throw new AgentRefusal('the leader key was lost before the service started');
      // A switchover promises every acknowledged write: without the previous primary's last data, no service.
      if (requireDataTime !== undefined && (this.dataTime() ?? 0) < requireDataTime)
        throw new AgentRefusal("the previous primary's last shipped data has not been applied here yet");
      const dataTime = newest ? null : this.dataTime();
      // How new each part of the data it starts from is (15.4): a failover reports each one's age.
      const parts = newest ? null : this.dataParts();
      // The copies of the databases become the service's plain files, each ending at a commit of the primary's
      // (the frames were checked against its checksum chain as they came).
      if (replication && !newest) {
        const copies = await replication.promote();
        // A standby that never installed a base of the primary it followed, and has no file of its own, has no
        // copy: it must not serve an empty database in the primary's place.
        const none = copies
          .filter((c) => c.position === null && !existsSync(path.resolve(this.config.service.dataDir, c.db)))
          .map((c) => c.db);
        if (followed && none.length > 0)
          throw new AgentRefusal(`no copy of ${none.join(', ')} here yet (no base was installed): it cannot take over`);
        for (const { db, position } of copies)
          console.error(
            `${this.config.node}: ${db}: serves its copy, ${position ? `generation ${position.generation}, frame ${position.frame} of its log` : 'which had no base (an empty database)'}`,
          );
      }
      await this.save({
        role: 'primary',
        epoch,
        appliedSnapshot: null,
        ...(replication && !newest ? { logTime: dataTime } : {}),
      });
      this.lastDataRound = Date.now() - (this.heartbeat?.shippingIntervalMs ?? 0) + 1000;
      this.failedChecks = 0;
      // A primary moved to etcd serves on: its running service is what the watchdog guards from now on.
      if (this.service) {
        if (this.service.child.pid) onSpawn(this.service.child.pid);
        this.replication?.lead(epoch, this.baseEveryMs());
        return { dataTime, parts };
      }
      try {
        this.serviceState = 'starting';
        this.changed();
        await this.runService(onSpawn);
      } catch (err) {
        this.serviceState = 'stopped';
        // Copies promoted here may be the only ones of the writes they hold: a base that replaces them later keeps
        // them aside.
        await this.save({ role: 'standby', ...(replication && !newest ? { keepNextReplaced: true } : {}) });
        throw err;
      }
      // Its databases are followed from here; copies just promoted are checked whole, beside the service. (The
      // group's replication may have been set up while this ran: the agent's own, as it is now.)
      this.replication?.lead(epoch, this.baseEveryMs(), !newest);
      return { dataTime, parts };
    }).finally(() => {
      this.becoming--;
      this.changed();
    });
  }

  /** A switchover on etcd, on the primary: the service stops, then its last data is shipped. If that ship fails,
   *  the service starts again (this node still holds the key) and the switchover fails. */
  private handOver(onSpawn: (pgid: number) => void): Promise<{ dataTime: number }> {
    return this.exclusive(async () => {
      if (this.state.role !== 'primary' || !this.service) throw new AgentRefusal('this node does not serve');
      await this.stopOwnService();
      try {
        // The databases' logs read to their end (the standby pulls the last frames from here); the other paths
        // shipped.
        const logTime = this.replication ? await this.replication.flush() : null;
        if (this.replication && logTime === null)
          throw new AgentRefusal('the last frames of a database could not be read (see its replication error)');
        if (logTime !== null) await this.save({ logTime });
        if (!this.replication || this.config.service.paths.length > 0)
          await this.dataExclusive((signal) => this.ship(signal));
      } catch (err) {
        await this.runService(onSpawn);
        throw err;
      }
      return { dataTime: this.dataTime()! };
    });
  }

  /** Giving up the leader key on etcd (or losing it): the service stops at once, not behind queued work. */
  private async stepDown(why: string): Promise<void> {
    await this.stopOwnService();
    // What the logs hold now is kept, for a standby taking over to pull while this agent lives.
    void this.replication?.flush().catch(() => undefined);
    await this.exclusive(async () => {
      const wasPrimary = this.state.role === 'primary';
      await this.save({ role: 'standby', keepNextReplaced: this.state.keepNextReplaced || wasPrimary });
    });
    this.fencedWhy = why;
    this.changed();
  }

  /** The group as etcd describes it, in the shape the data work reads (the heartbeat's, on the coordinator). */
  private async followGroup(group: GroupView | null): Promise<void> {
    this.group = group;
    this.heartbeat = group && {
      groupId: group.groupId,
      role: this.state.role,
      epoch: group.epoch,
      leaseMs: group.settings.ttlSeconds * 1000,
      shippingIntervalMs: group.settings.shippingIntervalMs,
      peers: [],
      groupKey: '',
      key: group.key,
    };
    if (group && this.state.groupId !== group.groupId) await this.save({ groupId: group.groupId });
    const etcd = this.etcdConnection;
    this.endpoint?.follow(
      group && etcd
        ? {
            endpoints: etcd.endpoints,
            prefix: groupPrefix(etcd.root, group.groupId),
            ...(etcd.auth ? { auth: etcd.auth } : {}),
          }
        : null,
    );
    // Another node served after this one (a newer epoch): this node's data is stale, and the next apply replaces
    // it, keeping it aside (the writes it never shipped stay recoverable by hand).
    if (group && group.epoch > this.state.epoch && this.state.role === 'primary' && !this.coordination?.isLeader)
      await this.exclusive(() => this.save({ role: 'standby', keepNextReplaced: true, logTime: null }));
    // The newest view, not this call's: calls of followGroup overlap (each waits on the state file).
    await this.followReplication(this.group);
  }

  /** Log replication as the group asks for it: a standby follows the primary's agent (by the leadership's token);
   *  a primary's own replication starts as its service serves (becomePrimary). */
  private async followReplication(group: GroupView | null): Promise<void> {
    const wanted = group?.settings.replication === 'log' && this.config.service.sqlite.length > 0;
    if (!wanted) {
      const replication = this.replication;
      this.replication = null;
      await replication?.stop(true);
      return;
    }
    const replication = this.startReplication();
    if (!replication || !group) return;
    if (this.coordination?.isLeader) {
      // A primary serving as the group turned to log replication: its databases are followed from now.
      if (this.shouldLead()) replication.lead(this.state.epoch, this.baseEveryMs());
      return;
    }
    const holder = group.primary;
    const url = holder && holder !== this.config.nodeId ? group.settings.agents[holder] : undefined;
    replication.follow(url ? { url, token: group.epoch, groupKey: group.key } : null);
  }

  /** The first database's replication error, named, for the node's tile. */
  private replicationError(): string | null {
    const failing = this.replication?.view().find((d) => d.error !== null);
    return failing ? `${failing.db}: ${failing.error}` : null;
  }

  /** Whether this node should replicate its databases as primary and does not: it holds the key, serves, and is
   *  not in the middle of taking over (which leads once its service serves). */
  private shouldLead(): boolean {
    return (
      this.replication !== null &&
      this.replication.token === null &&
      this.coordination?.isLeader === true &&
      this.state.role === 'primary' &&
      this.service !== null &&
      this.serviceState === 'running' &&
      this.becoming === 0
    );
  }

  /** How often the primary begins a new generation of each database, whose base it ships (15.2). */
  private baseEveryMs(): number {
    return (this.group?.settings.baseIntervalHours ?? GROUP_SETTINGS_DEFAULTS.baseIntervalHours) * 3_600_000;
  }

  private startReplication(): LogReplication | null {
    if (this.replication) return this.replication;
    if (!WORKERS.replicator || !WORKERS.puller) {
      this.lastError = 'log replication needs the agent built with its workers (npm run build:engine)';
      return null;
    }
    this.replication = new LogReplication({
      nodeId: this.config.nodeId,
      stateDir: this.config.stateDir,
      service: this.config.service,
      workers: { replicator: WORKERS.replicator, puller: WORKERS.puller },
      hooks: {
        shipBase: (db, base) => this.shipBase(db, base),
        fetchBase: (db, generation, dir) => this.fetchBase(db, generation, dir),
        beforeReplace: (db, dbPath) => this.keepAside(db, dbPath),
        publishSynchronous: async () => {
          if (!this.coordination) throw new AgentRefusal('synchronous replication needs coordination on etcd');
          await this.coordination.publishPosition();
        },
        log: (message) => console.error(`${this.config.node}: ${message}`),
        changed: () => this.changed(),
      },
    });
    return this.replication;
  }

  /** Each part of the data (every database, every other path) and the time of the primary's it holds: with log
   *  replication, each database's own; the other paths (and, without it, everything) as of the last copy applied.
   *  Null where there is none (a path that was never shipped). */
  private dataParts(): DataPart[] {
    const replicated = this.replication?.view();
    const copied = this.state.dataTime;
    return [
      ...this.config.service.sqlite.map((part) => ({
        part,
        dataTime: replicated ? (replicated.find((d) => d.db === part)?.caughtUpAt ?? this.state.logTime) : copied,
      })),
      ...this.config.service.paths.map((part) => ({
        part,
        dataTime: existsSync(path.resolve(this.config.service.dataDir, part)) ? copied : null,
      })),
    ];
  }

  /** The time up to which this node holds the primary's data: with log replication, every transaction the
   *  primary had committed by then is in its databases (the other paths go as copies, as often as they ship). */
  private dataTime(): number | null {
    if (!this.replication) return this.state.dataTime;
    return this.replication.dataTime() ?? this.state.logTime;
  }

  /** What the peer route (POST /v1/wal/pull) serves from: pulls signed with the group key, answered while this node
   *  replicates as primary, with its leadership's token. */
  readonly walPeer: WalPeerSource = {
    groupKey: () => this.group?.key ?? null,
    token: () => this.replication?.token ?? null,
    answer: (request: PullRequest, token: number, by: string | null) =>
      this.replication
        ? this.replication.answer(request, token, by)
        : { kind: 'not-primary', token: null, why: 'this node does not replicate its databases' },
    acknowledger: (nodeId, address) => this.acknowledger(nodeId, address),
  };

  /** A pull signed as `nodeId` counts as its acknowledgment (synchronous replication) only from the address of its
   *  agent, as the group's settings name it: the group key that signs it is every member's. */
  private async acknowledger(nodeId: string, address: string | undefined): Promise<string | null> {
    const url = this.group?.settings.agents[nodeId];
    if (!url || !address) return null;
    const from = address.replace(/^::ffff:/, '');
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (host === from) return nodeId;
    let known = this.memberAddresses.get(host);
    if (!known || known.until < Date.now()) {
      const found = await lookup(host, { all: true }).catch(() => []);
      known = { addresses: found.map((a) => a.address), until: Date.now() + 60_000 };
      this.memberAddresses.set(host, known);
    }
    if (known.addresses.includes(from)) return nodeId;
    const warned = `${nodeId} ${from}`;
    if (!this.warnedAcks.has(warned)) {
      this.warnedAcks.add(warned);
      console.error(
        `${this.config.node}: a pull signed as ${nodeId} came from ${from}, not from its agent's address (${host}): answered, not counted as its acknowledgment`,
      );
    }
    return null;
  }

  private readonly memberAddresses = new Map<string, { addresses: string[]; until: number }>();
  private readonly warnedAcks = new Set<string>();

  /** As primary of a synchronous group: the standby it names synchronous (null: degraded to asynchronous);
   *  undefined where the group is not synchronous, or none was named yet. */
  synchronousStandby(): string | null | undefined {
    if (this.group?.settings.synchronous === undefined || this.group.settings.synchronous === 'off') return undefined;
    // Taking over, before it serves: it names itself, so that no other member takes the key by itself if its start
    // fails (its copies may be the only ones of every acknowledged write).
    if (this.becoming > 0 && this.replication?.token === null) return this.config.nodeId;
    return this.replication?.synchronousStandby;
  }

  /** The barrier of synchronous replication (GET /v1/wal/synced, for the endpoints): "synced" once the synchronous
   *  standby holds every transaction committed before the call; "degraded" (the group said asynchronous first) or
   *  "off": go on; "waiting": do not (strict mode past the bound, or this node does not replicate as primary). */
  async synced(): Promise<'synced' | 'degraded' | 'off' | 'waiting'> {
    const settings = this.group?.settings;
    if (settings?.replication !== 'log' || settings.synchronous === 'off') return 'off';
    if (!this.replication) return 'waiting';
    return this.replication.barrier(settings.synchronous, settings.synchronousTimeoutMs);
  }

  /** Ships a generation's base to the group's repository (log replication). */
  private shipBase(db: string, base: BaseFiles): Promise<void> {
    return this.dataExclusive(async (signal) => {
      const group = this.group;
      if (!group) throw new AgentRefusal('this node is not in a group');
      // Only the key's holder may add to the group's repository: a base of a leadership that ended is not sent
      // (the storage API would refuse it, and alert).
      if (!this.coordination?.isLeader || this.state.role !== 'primary')
        throw new AgentRefusal('this node no longer holds the leader key: its base is not shipped');
      const repo = await this.groupRepository();
      await runBackup(repo, {
        cacheDir: this.cacheDir,
        paths: [base.baseDir],
        node: 'ship',
        sourceName: group.groupId,
        tags: [
          BASE_TAG,
          baseDbTag(db),
          generationTag(base.position.generation),
          `node:${this.config.node}`,
          epochTag(this.state.epoch),
        ],
        parent: null,
        signal,
        // The base's file is a SQLite database: its copy runs on a thread of its own, never on the one that renews
        // the leader key (a 250 MiB base copied here held it past the lease).
        workerScript: WORKERS.backup,
        sqliteWorkerScript: WORKERS.sqlite,
        lockWaitMs: 2000,
        // Beside the service and its replication, whose threads keep their priority: a base gives way.
        background: true,
        // Nothing writes a base's file: it is read as it is, not copied first.
        stillFiles: true,
      });
    });
  }

  /** Restores the newest base of `db` of `generation` into `dir`; null if there is none. */
  private fetchBase(db: string, generation: string, dir: string): Promise<BaseFiles | null> {
    return this.dataExclusive(async (signal) => {
      const group = this.group;
      if (!group) return null;
      const repo = await this.groupRepository();
      const base = await this.ships.newestBase(repo, group.groupId, db, generation);
      if (!base) return null;
      await repo.loadIndex();
      await runRestore(repo, { snapshot: base, target: dir, signal, workerScript: WORKERS.restore, background: true });
      // The base's directory, as the primary had it, under the target.
      return readBase(path.join(dir, base.paths[0]));
    });
  }

  /** Before a base replaces a database's copy on a node that served last: the copy (with its log) is kept aside,
   *  as an apply keeps a fenced primary's files. */
  private async keepAside(db: string, dbPath: string): Promise<void> {
    if (!this.state.keepNextReplaced) return;
    const aside = this.keepSet().dir;
    await mkdir(aside, { recursive: true, mode: 0o700 });
    for (const suffix of ['', '-wal', '-shm'])
      await rename(dbPath + suffix, path.join(aside, keptName(db) + suffix)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    await this.keptPart(db);
  }

  /** The set the data replaced after this node was fenced goes to: one per fencing, its databases (each as its
   *  base replaces it, with log replication) and its other paths (as the first ship is applied) together. */
  private keepSet(): { dir: string; parts: Set<string> } {
    this.keptAside ??= {
      dir: path.join(this.keptDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-epoch-${this.state.epoch}`),
      parts: new Set(),
    };
    return this.keptAside;
  }

  /** A part of the data was kept aside: once every part was, nothing more is. */
  private async keptPart(part: string): Promise<void> {
    const set = this.keepSet();
    set.parts.add(part);
    await this.refreshKept();
    const parts = [
      ...(this.replication ? this.config.service.sqlite : []),
      ...(!this.replication || this.config.service.paths.length > 0 ? ['paths'] : []),
    ];
    if (parts.every((p) => set.parts.has(p))) {
      this.keptAside = null;
      await this.save({ keepNextReplaced: false });
    }
  }

  /** What ships carry: everything, or with log replication the paths alone. */
  private shippedPart(): AgentConfig['service'] {
    return this.replication ? { ...this.config.service, sqlite: [] } : this.config.service;
  }

  /** A switchover's final sync on the primary: ship now, so the standby can take every acknowledged write. */
  shipNow(): Promise<AgentStatus> {
    return this.dataExclusive(async () => {
      if (this.state.role !== 'primary' || !this.heartbeat)
        throw new AgentRefusal('only a primary in a group ships data');
      await this.ship();
      return this.status();
    });
  }

  applyNow(snapshot?: string): Promise<AgentStatus> {
    return this.dataExclusive(async () => {
      if (this.state.role !== 'standby' || !this.heartbeat)
        throw new AgentRefusal('only a standby in a group applies data');
      await this.apply(snapshot);
      return this.status();
    });
  }

  /** Answers a peer's failsafe question: how long since this node heard from the control plane. A primary (or a
   *  node being promoted) never confirms another's outage: a control plane that was there promoted it. */
  failsafeAnswer(askerLeaseMs = 0): { heardControlPlaneMsAgo: number } {
    if (this.state.role === 'primary' || this.promoting > 0) return { heardControlPlaneMsAgo: 0 };
    const now = Date.now();
    const ago = this.lastHeardControlPlane ? now - this.lastHeardControlPlane : Number.MAX_SAFE_INTEGER;
    // The asker counts an answer over half its lease as a confirmation, and extends by half its lease: it says
    // which lease that is; the group's, as this node last heard it, may differ if it changed meanwhile.
    const leaseMs = Math.max(askerLeaseMs, this.heartbeat?.leaseMs ?? 0);
    if (!this.heartbeat || ago > Math.min(askerLeaseMs || leaseMs, this.heartbeat.leaseMs) / 4)
      this.vouched = { at: now, leaseMs: Math.max(leaseMs, this.vouched?.leaseMs ?? 0) };
    return { heardControlPlaneMsAgo: ago };
  }

  /** On etcd: whether this node is primary (it holds the key, serves, or is starting to). If not, it promises not
   *  to serve for `extensionMs` from now (plus a margin): the asker, cut off from etcd, serves on that long. */
  failsafeAnswerOnEtcd(extensionMs: number): { primary: boolean } {
    const primary =
      !this.coordination ||
      this.coordination.isLeader ||
      this.promoting > 0 ||
      (this.state.role === 'primary' && this.service !== null);
    if (!primary) {
      const until = Date.now() + extensionMs;
      if (!this.vouchedUntil || until > this.vouchedUntil) this.vouchedUntil = until;
    }
    return { primary };
  }

  private get keptDir(): string {
    return path.join(this.config.stateDir, 'replaced');
  }

  private async refreshKept(): Promise<void> {
    const names = (await readdir(this.keptDir).catch(() => [] as string[])).sort();
    this.kept = await Promise.all(
      names.map(async (name) => ({ name, bytes: await sizeOf(path.join(this.keptDir, name)) })),
    );
    this.changed();
  }

  /** An admin deletes one set of data kept from when this node was fenced, by its name. */
  async deleteKept(name: string): Promise<AgentStatus> {
    if (!/^[\w.-]{1,200}$/.test(name) || name.startsWith('.') || !this.kept.some((k) => k.name === name))
      throw new AgentRefusal(`no data kept under the name ${JSON.stringify(name.slice(0, 200))}`);
    await rm(path.join(this.keptDir, name), { recursive: true, force: true });
    await this.refreshKept();
    return this.status();
  }

  /** The agent's own place for staged copies (of live databases), in its private state directory. */
  private get cacheDir(): string {
    return path.join(this.config.stateDir, 'cache');
  }

  /** Whether the control plane revoked the secret this agent's config holds (a rotation): then no request signed
   *  with it is obeyed, until the config the dashboard issued with the new one is installed. */
  secretRevoked(): boolean {
    return this.state.revokedSecrets.includes(secretDigest(this.config.secret));
  }

  /** Asked by the control plane, with the secret it revokes, as it rotates this node's credentials. */
  async revokeSecret(): Promise<{ revoked: true }> {
    if (!this.secretRevoked())
      await this.save({ revokedSecrets: [...this.state.revokedSecrets, secretDigest(this.config.secret)] });
    console.error(
      `${this.config.node}: the control plane revoked this agent's secret: install the config it issued with the new one`,
    );
    return { revoked: true };
  }

  groupKey(): string | null {
    return this.heartbeat?.key ?? null;
  }

  /** A DR drill on this node (run-drill.ts), from the newest shipped data of any primary: it only reads it. */
  drill(): Promise<DrillResult> {
    return this.dataExclusive(async (signal) => {
      if (!this.heartbeat)
        return {
          ok: false,
          snapshot: null,
          dataTime: null,
          timeToReadyMs: 0,
          error: 'this node is not in a failover group yet',
          leftRunning: false,
        };
      const repo = await this.groupRepository();
      const scratch = path.join(this.config.stateDir, `drill-${Date.now()}`);
      if (this.replication) {
        // The databases from their newest bases, the other paths from their newest ship.
        const groupId = this.heartbeat.groupId;
        const bases = [];
        for (const db of this.config.service.sqlite) {
          const snapshot = await this.ships.newestBase(repo, groupId, db, null);
          if (snapshot) bases.push({ db, snapshot });
        }
        const ship = this.config.service.paths.length > 0 ? await this.ships.newest(repo, groupId, null) : null;
        if (bases.length === this.config.service.sqlite.length)
          return runDrill(repo, this.config.service, { ship, bases }, scratch, signal);
      }
      const newest = await this.ships.newest(repo, this.heartbeat.groupId, null);
      if (!newest)
        return {
          ok: false,
          snapshot: null,
          dataTime: null,
          timeToReadyMs: 0,
          error: 'nothing has been shipped for this group yet',
          leftRunning: false,
        };
      return runDrill(repo, this.config.service, newest, scratch, signal);
    });
  }

  /** A restore writes as this agent's user: of another node's data, only if this node's own config says so. */
  private refuseOthersData(id: string, source: string): void {
    const own = source.startsWith(`${this.config.node}:`);
    const shipped = this.state.groupId !== null && source === shipSourceKey(this.state.groupId);
    if (own || shipped || this.config.restoreOtherSources) return;
    throw new EngineError(
      'invalid-argument',
      `snapshot ${id.slice(0, 8)} is of ${source}, not of ${this.config.node}'s own sources or its group's shipped data: the agent restores another's data only if its config says "restoreOtherSources": true`,
    );
  }

  /** Starts a backup of this node's files or a restore onto it. A restore in place stops the guarded service
   *  while it runs, and starts it again once the restored files are verified. */
  startJob(req: AgentJobRequest): AgentJobView {
    return this.jobs.start(req.kind, async (signal, onProgress) => {
      const repo = await this.repository();
      const onEvent = (e: { type: string }) => e.type === 'progress' && onProgress(e as never);
      if (req.kind === 'backup') {
        const { preCommand, postCommand, commandTimeoutSeconds, ...what } = req;
        if ((preCommand.trim() || postCommand.trim()) && !this.config.runPlanCommands) {
          throw new EngineError(
            'invalid-argument',
            `the plan has commands before or after the backup, and the agent of ${this.config.node} does not run plan commands (set "runPlanCommands": true in its config)`,
          );
        }
        const pre = await runHook(preCommand, commandTimeoutSeconds);
        if (!pre.ok)
          throw new EngineError(
            'invalid-argument',
            `the pre-backup command failed, nothing was backed up: ${pre.message}`,
          );
        let result;
        let post: Awaited<ReturnType<typeof runHook>>;
        try {
          result = await runBackup(repo, {
            ...what,
            node: this.config.node,
            signal,
            onEvent,
            workerScript: WORKERS.backup,
            countWorkerScript: WORKERS.count,
            sqliteWorkerScript: WORKERS.sqlite,
            cacheDir: this.cacheDir,
          });
        } finally {
          // Whatever happened: it is what resumes the application.
          post = await runHook(postCommand, commandTimeoutSeconds);
        }
        return { ...backupResultData(result), ...(post.ok ? {} : { postCommandFailed: post.message }) };
      }
      const snapshot = await repo.resolveSnapshot(req.snapshot);
      this.refuseOthersData(snapshot.id, snapshot.source);
      const restore = (lock = true) =>
        runRestore(repo, {
          lock,
          snapshot,
          target: req.target,
          include: req.include,
          dryRun: req.dryRun,
          replaceDirectories: req.replaceDirectories,
          // Judged here again, on this machine's real paths: "/proc/self/root" is "/" in place.
          ...(path.resolve(req.target) === '/' ? {} : { targetRule: req.targetRule }),
          workerScript: WORKERS.restore,
          signal,
          onEvent,
        });
      if (req.dryRun || path.resolve(req.target) !== '/')
        return restoreResultData(snapshot, await restore(), req.dryRun);
      // The repository's lock is taken before the service is stopped: a restore that cannot have it (a prune's
      // sweep runs) leaves the service running.
      return this.dataExclusive(() =>
        underReaderLock(
          (o) => repo.lock(o),
          'restore',
          { signal },
          () => this.restoreInPlace(() => restore(false)),
        ),
      ).then((result) => restoreResultData(snapshot, result, false));
    });
  }

  /** Stops the service, restores, and starts it again if it ran and this node is still the primary it was. */
  private async restoreInPlace(restore: () => Promise<RestoreResult>): Promise<RestoreResult> {
    // Meanwhile no promotion: a service must not start on half-restored files.
    this.restoringInPlace = true;
    try {
      const epoch = this.state.epoch;
      const wasRunning = this.service !== null;
      await this.exclusive(() => this.stopOwnService());
      const result = await restore();
      await this.exclusive(async () => {
        if (!wasRunning || this.state.role !== 'primary' || this.state.epoch !== epoch || this.service) return;
        // On etcd only while this node still holds the key, and under the watchdog.
        if (this.coordination && !this.coordination.isLeader) return;
        await this.runService(this.coordination ? (pgid) => this.coordination?.guardSpawn(pgid) : undefined);
      });
      return result;
    } finally {
      this.restoringInPlace = false;
    }
  }

  // --- internals -------------------------------------------------------------------------------------------

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private dataExclusive<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const step = () => {
      const controller = new AbortController();
      this.dataAbort = controller;
      const current = fn(controller.signal).finally(() => {
        if (this.dataAbort === controller) this.dataAbort = null;
      });
      this.dataCurrent = current.catch(() => undefined);
      return current;
    };
    const run = this.dataQueue.then(step, step);
    this.dataQueue = run.catch(() => undefined);
    return run;
  }

  /** Starts the guarded service on its own port and data, and watches it. */
  private async runService(onSpawn?: (pgid: number) => void): Promise<void> {
    // A stop still under way (a lapsed lease) holds the port: wait for it.
    await this.stopping;
    const running = await startService(
      this.config.service,
      { port: this.config.service.port, dataDir: this.config.service.dataDir },
      (pgid) => {
        // Known from the moment it exists: an agent that dies while it starts leaves nothing a restart misses.
        this.state.servicePid = pgid;
        void this.save({ servicePid: pgid }).catch(() => undefined);
        onSpawn?.(pgid);
      },
      this.serviceLog,
    );
    this.service = running;
    this.fencedWhy = null;
    // A new process: its checks count from nothing.
    this.failedChecks = 0;
    this.saidDown = false;
    this.watchService(running);
    this.serviceState = 'running';
    this.healthy = true;
    await this.save({ servicePid: running.child.pid ?? null });
    // Healthy, so it listens now: where? Beside the promotion, which does not wait for it.
    void exposedWarning(this.config.service.port).then((exposed) => {
      if (this.service !== running) return;
      if (exposed && exposed !== this.exposed) console.error(`${this.config.node}: warning: ${exposed}`);
      this.exposed = exposed;
      this.changed();
    });
  }

  private changed(): void {
    this.version++;
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  private async save(patch: Partial<PersistedState>): Promise<void> {
    if (patch.role !== undefined && patch.role !== this.state.role) this.fencedWhy = null;
    this.state = { ...this.state, ...patch };
    // One write at a time, each of the state as it is when the write starts: two saves at once (a revocation
    // during a heartbeat's) cannot leave the older state on disk.
    const write = this.saving.then(() => writeState(this.config.stateDir, this.state));
    this.saving = write.catch(() => undefined);
    await write;
    this.changed();
  }

  private watchService(running: RunningService): void {
    void running.exited.then(async (exit) => {
      if (this.service !== running) return;
      // Reported at once (through /v1/watch), not left for the probes to find.
      this.service = null;
      this.serviceState = 'exited';
      this.healthy = false;
      this.exposed = null;
      this.lastExit = exit;
      this.changed();
      void this.coordination
        ?.serviceFailed(`it exited with ${exit.signal ?? `code ${exit.code}`}`)
        .catch((err: Error) => console.error(`${this.config.node}: ${err.message}`));
      await this.exclusive(() => this.save({ servicePid: null }));
    });
  }

  /** Stops the service; a caller that finds a stop already under way waits for it, so "stopped" always means
   *  the process is gone. */
  private async stopOwnService(): Promise<void> {
    const running = this.service;
    // A crashed service is stopped for good once the node stands down; its exit stays in lastExit.
    if (this.serviceState === 'exited') this.serviceState = 'stopped';
    if (!running) return this.stopping;
    this.service = null;
    const stop = (async () => {
      await stopService(this.config.service, running);
      this.serviceState = 'stopped';
      this.healthy = false;
      this.exposed = null;
      await this.save({ servicePid: null });
    })();
    const stopping = stop.then(
      () => undefined,
      () => undefined,
    );
    this.stopping = stopping;
    void stopping.then(() => {
      if (this.stopping === stopping) this.stopping = Promise.resolve();
    });
    return stop;
  }

  /** Health checks one after another, as often as the group's timings say (on etcd), else every second. */
  private scheduleHealthCheck(): void {
    this.healthTimer = setTimeout(async () => {
      await this.checkHealth().catch(() => undefined);
      if (this.healthTimer) this.scheduleHealthCheck();
    }, this.coordination?.timings?.probeIntervalMs ?? 1000);
  }

  private async checkHealth(): Promise<void> {
    if (!this.service || this.serviceState !== 'running') return;
    const healthy = await checkServiceHealth(this.config.service, this.config.service.port, 800);
    this.failedChecks = healthy ? 0 : this.failedChecks + 1;
    if (healthy) this.saidDown = false;
    const downAfter = this.coordination && this.heartbeat ? (this.coordination.downAfter ?? 3) : 0;
    // Reached (or passed, if the group's setting came down meanwhile): said once per run of failures.
    if (downAfter && this.failedChecks >= downAfter && !this.saidDown) {
      this.saidDown = true;
      void this.coordination
        ?.serviceFailed(`it failed ${this.failedChecks} health checks in a row`)
        .catch((err: Error) => console.error(`${this.config.node}: ${err.message}`));
    }
    if (healthy !== this.healthy && this.service) {
      this.healthy = healthy;
      this.changed();
    }
  }

  private async checkLease(): Promise<void> {
    // A standby holds no lease: nothing it was granted as a primary carries over to a later promotion.
    if (this.state.role !== 'primary') this.lease.reset();
    const serving = this.state.role === 'primary' && this.service !== null;
    const now = Date.now();
    const failsafe = serving && this.lease.inFailsafe(now);
    if (failsafe !== this.failsafe) {
      this.failsafe = failsafe;
      this.changed();
    }
    if (!serving) return;
    const hb = this.heartbeat;
    if (hb)
      void this.lease
        .maybeAsk(() => peersConfirmOutage(this.config.nodeId, hb.key, hb.peers, hb.leaseMs, QUESTION_TIMEOUT_MS))
        .catch(() => undefined);
    if (this.lease.valid(now) || this.checkingLease) return;
    this.checkingLease = true;
    try {
      // Directly, not through the queue: nothing may hold a fenced primary up.
      this.fencedWhy =
        'the lease ran out and the peers did not confirm that they lost the control plane too: stopped serving so that a standby can take over';
      this.failsafe = false;
      await this.stopOwnService();
    } finally {
      this.checkingLease = false;
    }
  }

  /** This node's own repository: its backups. */
  private repository(): Promise<Repository> {
    this.repo ??= Repository.open(
      new HttpStorage(this.controlPlane, { nodeId: this.config.nodeId, secret: this.config.secret }),
      nodeRepositoryPassword(this.config.secret),
      { lockOwner: this.config.nodeId, cacheDir: this.cacheDir },
    ).catch((err) => {
      this.repo = null;
      throw err;
    });
    return this.repo;
  }

  /** The repository of the failover group this node is in: the primary's shipped data. */
  private groupRepository(): Promise<Repository> {
    const hb = this.heartbeat;
    if (!hb) throw new AgentRefusal('this node is not in a failover group yet');
    if (this.groupRepo?.groupId !== hb.groupId || this.groupRepo.key !== hb.key) {
      const opened = Repository.open(
        new HttpStorage(this.controlPlane, { nodeId: this.config.nodeId, secret: this.config.secret }, hb.groupId),
        groupRepositoryPassword(hb.key),
        { lockOwner: this.config.nodeId, cacheDir: this.cacheDir },
      );
      const entry = { groupId: hb.groupId, key: hb.key, repo: opened };
      opened.catch(() => {
        if (this.groupRepo === entry) this.groupRepo = null;
      });
      this.groupRepo = entry;
    }
    return this.groupRepo.repo;
  }

  private async dataTick(): Promise<void> {
    // A primary that serves replicates its databases, whatever order its group's settings and its leadership
    // came in.
    if (this.shouldLead()) this.replication?.lead(this.state.epoch, this.baseEveryMs());
    const hb = this.heartbeat;
    if (!hb || this.dataRound || Date.now() - this.lastDataRound < hb.shippingIntervalMs) return;
    this.dataRound = true;
    this.lastDataRound = Date.now();
    try {
      // With log replication, only the other paths (if any) go as copies.
      const copies = !this.replication || this.config.service.paths.length > 0;
      await this.saveLogTime();
      await this.dataExclusive(async (signal) => {
        if (!copies) return;
        if (this.state.role === 'primary' && this.service && this.serviceState === 'running') await this.ship(signal);
        else if (this.state.role === 'standby' && !this.service) await this.apply(undefined, signal);
      });
    } catch (err) {
      this.lastError = (err as Error).message;
      this.changed();
    } finally {
      this.dataRound = false;
    }
  }

  /** Keeps the databases' replication time in the state file (every data round, when it moved): after a restart
   *  the copies on disk are at least that new. */
  private async saveLogTime(): Promise<void> {
    const logTime = this.replication?.dataTime() ?? null;
    if (logTime !== null && logTime > (this.state.logTime ?? 0)) await this.save({ logTime });
  }

  private async ship(signal?: AbortSignal): Promise<void> {
    // With log replication the databases go frame by frame: a ship carries the other paths alone, if they exist.
    if (this.replication && !dataPaths(this.config.service).some((p) => existsSync(p))) return;
    const repo = await this.groupRepository();
    const shipped = await shipData(repo, this.shippedPart(), {
      groupId: this.heartbeat!.groupId,
      node: this.config.node,
      epoch: this.state.epoch,
      parent: this.state.snapshot,
      signal,
      cacheDir: this.cacheDir,
      workerScript: WORKERS.backup,
      sqliteWorkerScript: WORKERS.sqlite,
    });
    this.lastShipAt = Date.now();
    this.lastError = null;
    await this.save({ snapshot: shipped.snapshot, dataTime: shipped.dataTime, appliedSnapshot: null });
  }

  private async apply(snapshotId?: string, signal?: AbortSignal, epoch?: 'newest'): Promise<void> {
    const repo = await this.groupRepository();
    // Only the current primary's ships: nothing another node wrote can reach a standby's data. (Taking the key on
    // etcd: the newest ship of the highest epoch that shipped, where only the key's holder could ship.)
    const newest = await this.ships.newest(repo, this.heartbeat!.groupId, epoch ?? this.heartbeat!.epoch);
    // A named snapshot (a switchover's final sync) must be there; the newest is then at least as new.
    if (snapshotId && !this.ships.has(snapshotId))
      throw new AgentRefusal(`snapshot ${snapshotId.slice(0, 8)} has not reached the repository`);
    if (!newest || newest.id === this.state.snapshot) return;
    if (this.state.dataTime !== null && Date.parse(newest.summary.startedAt) < this.state.dataTime) return;
    const keep = this.state.keepNextReplaced ? this.keepSet().dir : undefined;
    const staging = path.join(this.config.stateDir, 'incoming');
    // The files as the last apply left them: only what changed since is applied (15.4). Marked first: a crash
    // midway leaves a mix of old and new files, which the next apply replaces whole.
    const previous =
      !keep && this.state.appliedSnapshot === this.state.snapshot ? this.ships.get(this.state.snapshot) : null;
    if (previous) await this.save({ appliedSnapshot: null });
    const applied =
      (previous &&
        (await applyShippedChanges(
          repo,
          this.shippedPart(),
          previous,
          newest,
          staging,
          this.config.service.dataDir,
          signal,
          WORKERS.restore,
        ))) ||
      (await applyShipped(
        repo,
        this.shippedPart(),
        newest,
        staging,
        this.config.service.dataDir,
        signal,
        keep,
        WORKERS.restore,
      ));
    this.lastError = null;
    // The kept set is listed before the new data's time is saved: whoever sees that time sees the set too.
    if (keep) await this.keptPart('paths');
    await this.save({ snapshot: applied.snapshot, dataTime: applied.dataTime, appliedSnapshot: applied.snapshot });
  }
}

export type { Role };

/** The worker scripts built beside the agent in dist/ (absent when the agent runs from source): data work hashes,
 *  compresses, seals and decrypts on worker threads, never on the thread that renews the lease and answers the
 *  failsafe question. */
const WORKERS = (() => {
  const script = (name: string) => {
    const file = path.join(__dirname, name);
    return existsSync(file) ? file : undefined;
  };
  return {
    backup: script('backup-worker.cjs'),
    count: script('count-worker.cjs'),
    restore: script('restore-worker.cjs'),
    sqlite: script('sqlite-copy-worker.cjs'),
    replicator: script('replicator-worker.cjs'),
    puller: script('puller-worker.cjs'),
  };
})();

/** The bytes under `dir`, counted without following links. */
async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await sizeOf(full);
    else total += (await lstat(full).catch(() => null))?.size ?? 0;
  }
  return total;
}

/** What the agent keeps of a revoked secret: enough to know it again, nothing to sign with. */
function secretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
