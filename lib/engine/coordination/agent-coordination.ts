// A node's agent on etcd: finds its group (nodes/<id>/group), reads the group's settings and its sealed key, and
// runs the leader loop on its own monotonic schedule: the primary renews every `renewMs`, a standby looks at the
// leader key every `renewMs` or 500 ms, whichever is sooner, so that a primary that resigns is replaced at once.
//
// While this node is primary, its service runs only as long as the lease may: the watchdog (a process of its own)
// is armed with the service's process group and fed the send time of every renewal that succeeded, and this loop
// keeps the same deadline itself, so an agent that merely cannot reach etcd stops its service in time too.
// A service that fails (it exits, or fails `downAfter` health checks) gives up the key at once, and this node
// stays out of the next election for two TTLs, so that a standby takes over instead of a restart in place.
import type { DrillResult } from '../nodes/agent-protocol';
import { membersConfirmNotPrimary } from '../nodes/failsafe';
import { openGroupKey } from '../nodes/group-key';
import { EtcdStore } from './etcd-store';
import {
  CONFIG_KEY,
  DRILL_INTENT_KEY,
  DRILLS_PREFIX,
  type DrillRecord,
  groupPrefix,
  NODE_GROUP_KEY,
  nodePrefix,
  parseGroupSettings,
  sealedKeyName,
  LEADER_KEY,
  FORCE_INTENT_KEY,
  MAINTENANCE_KEY,
  historyKeyName,
  intentResultName,
  MEMBERS_PREFIX,
  NO_CANDIDATE_PREFIX,
  SWITCHOVER_INTENT_KEY,
  switchoverIntentSchema,
  type DataPart,
  type FailoverHistory,
  type SwitchoverIntent,
  type GroupSettings,
} from './group-keys';
import { LeaderLoop, lastPrimaryPosition } from './leader-loop';
import type { WatchdogClient } from './watchdog-client';
import { watchdogDeadlineNs } from './watchdog-deadline';

export interface EtcdConnection {
  endpoints: string[];
  /** Below which the groups and nodes live (group-keys.ts). */
  root: string;
  auth?: { username: string; password: string };
}

/** What this node knows of its group from etcd. */
export interface GroupView {
  groupId: string;
  /** The group key, opened with this node's secret. */
  key: string;
  settings: GroupSettings;
  /** The epoch of the newest leader this node has seen (settings.epochBase + the leader key's token). */
  epoch: number;
  /** The node that leads in that epoch (it holds the key, or held it last), when known. */
  primary: string | null;
}

/** What the agent does for the loop. */
export interface CoordinatedNode {
  /** How much of the primary's data this node holds (milliseconds of data time). */
  position(): number;
  /** Starts the service as primary of `epoch` (`onSpawn` is told its process group the moment it exists); resolves
   *  once it serves, with the time of the data it serves (null: its own, as it was) and of each part of it, or
   *  throws (it could not start). */
  becomePrimary(
    epoch: number,
    onSpawn: (pgid: number) => void,
    /** A switchover's: the time of the previous primary's last data, which this node must hold before serving. */
    requireDataTime?: number,
  ): Promise<{ dataTime: number | null; parts?: DataPart[] | null }>;
  /** A switchover, on the primary: stops the service and ships its last data; on a failure to ship, starts the
   *  service again (`onSpawn` as above) and throws. */
  handOver(onSpawn: (pgid: number) => void): Promise<{ dataTime: number }>;
  /** Stops the service: this node is no longer primary. */
  stepDown(why: string): Promise<void>;
  /** Whether the service runs (or is starting) on this node now. */
  serving(): boolean;
  /** As primary of a synchronous group: the standby it names synchronous (null: none); undefined otherwise. */
  synchronousStandby?(): string | null | undefined;
  /** The group this node is in changed (or it left every group: null). */
  setGroup(group: GroupView | null): void;
  /** Told of every outcome worth a line in the agent's log. */
  log(message: string): void;
  /** A DR drill on this node, from the group's newest shipped data (it only reads it). */
  drill(): Promise<DrillResult>;
}

/** A failed service keeps its node out of elections this many TTLs. */
const COOLDOWN_TTLS = 2;
/** An intention older than this is not acted on (the dashboard waits no longer for it). */
const INTENT_FRESH_MS = 60_000;
/** How late a renewal may be before the primary asks the other members whether it may serve on. */
const RENEWAL_OVERDUE_MS = 250;
/** `promise`'s value, or undefined if it takes longer than `ms` (it goes on, unheeded). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]);
}

/** How often a primary cut off from etcd asks the other members (askFailsafe). */
const FAILSAFE_EVERY_MS = 400;
/** The shortest wait for the members' answers: a question asked with less time left than this is still asked. */
const MIN_QUESTION_MS = 200;
/** How often the settings and the node's group are read again. */
const SETTINGS_EVERY_MS = 2000;

export class AgentCoordination {
  private readonly nodeStore: EtcdStore;
  private groupStore: EtcdStore | null = null;
  private loop: LeaderLoop | null = null;
  private group: GroupView | null = null;
  private settingsReadAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private failsafeTimer: NodeJS.Timeout | null = null;
  /** The end of the last failsafe extension (13.4). */
  private failsafeUntilNs: bigint | null = null;
  /** The failsafe's last outcome that was logged: said once per change, not every question. */
  private failsafeSaid: 'confirmed' | 'unconfirmed' | null = null;
  /** The settings the current loop was made with: its lease has their TTL, whatever etcd says since. */
  private loopSettings: GroupSettings | null = null;
  private readingTimings = false;
  /** Leaderships whose service is being started (serve). */
  private starting = 0;
  /** Failsafe questions waiting for their answers. */
  private questionsOut = 0;
  private stopped = false;
  /** The monotonic deadline of the service while this node is primary, else null. */
  private deadlineNs: bigint | null = null;
  private failedAt: bigint | null = null;
  /** The send time of the newest renewal that succeeded, for a watchdog armed later (a service still starting). */
  private lastRenewalNs: bigint | null = null;
  /** The group is moving here with this node serving: its first leadership is no failover. */
  private moving: boolean;
  private noCandidateSaidAt = 0;
  /** The group is in maintenance; and how many ticks in a row this primary found its service down outside it. */
  private paused = false;
  private downTicks = 0;
  /** A switchover this node hands over in, and the last intention it acted on. */
  private handingOver = false;
  private handledIntent: string | null = null;
  /** The last drill intention acted on, and whether a drill runs now. */
  private handledDrill: string | null = null;
  private drilling = false;
  /** A step-down under way. */
  private losing: Promise<void> | null = null;
  /** What the last tick did, and when the loop last reached etcd. */
  lastResult = 'starting';
  lastError: string | null = null;

  constructor(
    private readonly connection: EtcdConnection,
    private readonly nodeId: string,
    private readonly secret: string,
    private readonly node: CoordinatedNode,
    private readonly watchdog: WatchdogClient | null,
    /** This node serves as primary already (moved from the dashboard's coordinator), with this long left on the
     *  lease the coordinator granted: it takes the key first, and stops the service if it cannot by then. */
    private incumbent: { remainingMs: number } | null = null,
  ) {
    this.moving = incumbent !== null;
    if (incumbent) this.deadlineNs = process.hrtime.bigint() + BigInt(Math.round(incumbent.remainingMs * 1e6));
    this.nodeStore = new EtcdStore({ ...this.storeOptions(), prefix: nodePrefix(connection.root, nodeId) });
  }

  get isLeader(): boolean {
    return this.loop?.token != null;
  }

  /** Publishes this primary's position, with the synchronous standby it names, now; throws unless etcd took it. */
  async publishPosition(): Promise<void> {
    if (!this.loop || !this.isLeader) throw new Error('this node does not hold the leader key');
    await this.loop.publishNow();
  }

  /** The group's failed health checks in a row before its primary gives up the key. */
  get downAfter(): number | null {
    return this.group?.settings.downAfter ?? null;
  }

  /** The TTL of this node's lease (the one its loop campaigns and renews with): every deadline counts from it.
   *  A new TTL on etcd applies from the next loop, made once this node holds no key. */
  private get leaseTtlMs(): number {
    return ((this.loopSettings ?? this.group?.settings)?.ttlSeconds ?? 3) * 1000;
  }

  /** How often the key is renewed: the group's setting, but never slower than a third of the lease's TTL. */
  private get renewMs(): number {
    const set = this.group?.settings.renewMs ?? 1000;
    return Math.min(set, Math.floor(this.leaseTtlMs / 3));
  }

  /** The timings this node applies now (13.7): its lease's TTL, and the group's other settings as last read. */
  get timings(): {
    ttlSeconds: number;
    renewMs: number;
    downAfter: number;
    probeIntervalMs: number;
    maxLagMs: number;
  } | null {
    const settings = this.group?.settings;
    if (!settings) return null;
    return {
      ttlSeconds: this.leaseTtlMs / 1000,
      renewMs: this.renewMs,
      downAfter: settings.downAfter,
      probeIntervalMs: settings.probeIntervalMs,
      maxLagMs: (this.loopSettings ?? settings).maxLagMs,
    };
  }

  /** Milliseconds left before this primary's service must stop, 0 for a standby. */
  get remainingMs(): number {
    if (this.deadlineNs === null) return 0;
    return Math.max(0, Number(this.deadlineNs - process.hrtime.bigint()) / 1e6);
  }

  start(): void {
    this.deadlineTimer = setInterval(() => void this.enforceDeadline().catch((err) => this.failed(err)), 100);
    this.failsafeTimer = setInterval(() => void this.askFailsafe().catch((err) => this.failed(err)), FAILSAFE_EVERY_MS);
    const step = async () => {
      if (this.stopped) return;
      await this.tick();
      if (this.stopped) return;
      const every = this.renewMs;
      this.timer = setTimeout(() => void step(), this.isLeader ? every : Math.min(every, 500));
    };
    void step();
  }

  /** The service failed (it exited, or failed its health checks): give up the key now, so that a standby takes
   *  over, and stay out of the next election. */
  async serviceFailed(why: string): Promise<void> {
    this.failedAt = process.hrtime.bigint();
    // In maintenance the primary keeps the key: an admin decides what happens.
    if (!this.isLeader || this.paused) return;
    // The outage starts now: said before the key is given up, for the member that takes over to measure from.
    await this.loop?.markDown(why, Date.now()).catch(() => undefined);
    await this.loseLeadership(`the service failed (${why}): gave up the leader key`, true);
  }

  /** No more elections or renewals from this node (its agent stops): the deadline still holds. */
  halt(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.failsafeTimer) clearInterval(this.failsafeTimer);
  }

  /** True while this primary serves on the other members' word, etcd being out of its reach (13.4). */
  get inFailsafe(): boolean {
    return this.failsafeUntilNs !== null && process.hrtime.bigint() < this.failsafeUntilNs;
  }

  /** Patroni's failsafe (13.4): a primary whose renewals get no answer asks every other member whether it is
   *  primary, every FAILSAFE_EVERY_MS once a renewal is overdue (each question waits for its answers until the
   *  deadline, and the next does not wait for it). Only if every member answers no may it serve on,
   *  for half a TTL from the question's send time: each of them promised not to serve that long after answering.
   *  Etcd lost for all (quorum gone) keeps the primary serving; a primary cut off alone gets a no from nobody that
   *  took the key, and stops at its deadline. */
  private async askFailsafe(): Promise<void> {
    const group = this.group;
    if (!this.isLeader || this.losing || this.handingOver || !group || this.lastRenewalNs === null) return;
    const ttlMs = this.leaseTtlMs;
    const sentNs = process.hrtime.bigint();
    // Only once a renewal is overdue: a healthy one takes milliseconds, every renewMs.
    if (Number(sentNs - this.lastRenewalNs) / 1e6 < this.renewMs + RENEWAL_OVERDUE_MS) return;
    const others = Object.entries(group.settings.agents)
      .filter(([id]) => id !== this.nodeId)
      .map(([, url]) => ({ url }));
    // A member with no agent address cannot be asked: no failsafe then.
    if (others.length !== Object.keys(group.settings.members).length - 1) return;
    const extensionMs = ttlMs / 2;
    // An answer is worth having until the deadline (the extension counts from the question's send time), however
    // slow a loaded member is to give it; but no more than two questions wait at once, not to pile up on it.
    if (this.questionsOut >= 2) return;
    const waitMs = Math.round(Math.max(MIN_QUESTION_MS, Math.min(extensionMs, this.remainingMs)));
    this.questionsOut++;
    const { confirmed, refusals } = await membersConfirmNotPrimary(
      this.nodeId,
      group.key,
      others,
      extensionMs,
      waitMs,
    ).finally(() => {
      this.questionsOut--;
    });
    const tookMs = Number(process.hrtime.bigint() - sentNs) / 1e6;
    if (!confirmed) {
      if (this.failsafeSaid !== 'unconfirmed')
        this.node.log(
          `failsafe: not every member answered that it is not primary (asked for ${Math.round(tookMs)} ms: ${refusals.join('; ')})`,
        );
      this.failsafeSaid = 'unconfirmed';
      return;
    }
    if (!this.isLeader || this.losing || this.deadlineNs === null) return;
    const untilNs = sentNs + BigInt(Math.round(extensionMs * 1e6));
    if (untilNs <= this.deadlineNs) return;
    if (this.failsafeSaid !== 'confirmed')
      this.node.log(`failsafe: every member answered that it is not primary (in ${Math.round(tookMs)} ms): serving on`);
    this.failsafeSaid = 'confirmed';
    this.deadlineNs = untilNs;
    this.failsafeUntilNs = untilNs;
    // The watchdog's deadline is a renewal's send time plus TTL − max(1 s, TTL/4): the one that ends here.
    this.watchdog?.renewed(untilNs - watchdogDeadlineNs(0n, ttlMs), ttlMs);
  }

  /** Something that went wrong outside a tick: said, and the tick's next round goes on. */
  private failed(err: unknown): void {
    this.lastError = (err as Error).message;
    this.node.log(`coordination: ${(err as Error).message}`);
  }

  async stop(): Promise<void> {
    this.halt();
    if (this.deadlineTimer) clearInterval(this.deadlineTimer);
    await this.loop?.stop().catch(() => undefined);
    this.deadlineNs = null;
    this.groupStore?.close();
    this.nodeStore.close();
  }

  private storeOptions() {
    return {
      endpoints: this.connection.endpoints,
      ...(this.connection.auth ? { auth: this.connection.auth } : {}),
      requestTimeoutMs: 1500,
    };
  }

  private async tick(): Promise<void> {
    try {
      const settingsDue = Date.now() - this.settingsReadAt >= SETTINGS_EVERY_MS;
      if (!this.isLeader && settingsDue) await this.readGroup();
      // A leader reads its group's timings beside its loop: its renewals never wait on that read.
      else if (settingsDue) void this.refreshTimings();
      if (!this.loop || !this.group) return;
      await this.followLeader();
      // A standby's election needs to know of maintenance first; a leader renews first, whatever else is slow.
      const wasLeader = this.isLeader;
      if (!wasLeader) this.paused = await this.readMaintenance();
      this.lastResult = await this.loop.tick();
      // Bounded for a leader, whose next renewal waits for this tick: a slow read keeps the last answer.
      if (wasLeader) this.paused = (await within(this.readMaintenance(), this.renewMs / 2)) ?? this.paused;
      this.lastError = null;
      await this.followIntent();
      await this.followDrillIntent();
      // Out of maintenance, a primary whose service is down gives the key up, as it would have at the failure.
      if (this.isLeader && !this.paused && !this.handingOver && this.starting === 0 && !this.node.serving()) {
        this.downTicks += 1;
        // Once, and not awaited: giving the key up waits for the node's role changes, and renewals must not.
        if (this.downTicks === 2)
          void this.serviceFailed('its service is not running').catch((err) => this.failed(err));
      } else this.downTicks = 0;
    } catch (err) {
      this.lastResult = 'unreachable';
      this.lastError = `etcd: ${(err as Error).message}`;
    }
  }

  /** The leader's read of its group's settings and key: new timings and a new key apply at once, but it keeps its
   *  loop (and its lease's TTL) and its group. One read at a time; a read that fails changes nothing. */
  private async refreshTimings(): Promise<void> {
    if (this.readingTimings || !this.group || !this.groupStore) return;
    this.readingTimings = true;
    this.settingsReadAt = Date.now();
    try {
      const settings = parseGroupSettings(await this.groupStore.get(CONFIG_KEY));
      // A new group key too (a member's credentials were rotated): kept only if it opens with this node's secret.
      const sealed = await this.groupStore.get(sealedKeyName(this.nodeId));
      const group = this.group;
      if (!settings?.members[this.nodeId] || !sealed || !this.isLeader || this.group !== group) return;
      const key = openGroupKey(this.secret, sealed);
      if (key === group.key && JSON.stringify(settings) === JSON.stringify(group.settings)) return;
      this.group = { ...group, key, settings };
      this.node.setGroup(this.group);
    } catch {
      // etcd is out of reach: the renewals say so.
    } finally {
      this.readingTimings = false;
    }
  }

  /** Reads which group this node is in, and that group's settings and key; starts a loop for a new group, or for
   *  new settings (a new TTL applies to the next lease). Only while this node holds no key. */
  private async readGroup(): Promise<void> {
    const groupId = await this.nodeStore.get(NODE_GROUP_KEY);
    this.settingsReadAt = Date.now();
    if (groupId !== this.group?.groupId) await this.leaveGroup();
    if (!groupId) return;
    this.groupStore ??= new EtcdStore({ ...this.storeOptions(), prefix: groupPrefix(this.connection.root, groupId) });
    const settings = parseGroupSettings(await this.groupStore.get(CONFIG_KEY));
    const sealed = await this.groupStore.get(sealedKeyName(this.nodeId));
    if (!settings || !sealed || !settings.members[this.nodeId]) {
      this.lastError = `group ${groupId} has no settings or key for this node in etcd yet`;
      return;
    }
    const key = openGroupKey(this.secret, sealed);
    const changed =
      !this.group || this.group.key !== key || JSON.stringify(this.group.settings) !== JSON.stringify(settings);
    this.group = { groupId, key, settings, epoch: this.group?.epoch ?? 0, primary: this.group?.primary ?? null };
    if (changed) this.node.setGroup(this.group);
    // A loop per group and settings, made while this node holds no key.
    if (!this.loop || JSON.stringify(this.loopSettings) !== JSON.stringify(settings)) {
      await this.loop?.stop().catch(() => undefined);
      this.loop = this.newLoop(groupId, settings);
      this.loopSettings = settings;
      this.incumbent = null;
    }
  }

  private newLoop(groupId: string, settings: GroupSettings): LeaderLoop {
    return new LeaderLoop({
      store: this.groupStore!,
      nodeId: this.nodeId,
      ttlSeconds: settings.ttlSeconds,
      maxLag: settings.maxLagMs,
      position: async () => this.node.position(),
      eligible: () => {
        if (this.failedAt === null) return null;
        const cooldownNs = BigInt(COOLDOWN_TTLS * settings.ttlSeconds) * 1_000_000_000n;
        return process.hrtime.bigint() - this.failedAt < cooldownNs
          ? 'its service failed moments ago: another member goes first'
          : null;
      },
      onPromote: async (token, sentNs, handoff) => {
        // The group's epoch moves on once the service serves: until then the node catches up on the data of the
        // epoch before (becomePrimary).
        const epoch = settings.epochBase + Number(token);
        this.lastRenewalNs = sentNs;
        this.deadlineNs = watchdogDeadlineNs(sentNs, settings.ttlSeconds * 1000);
        // Not awaited: the service may take a while to start, and the loop must go on renewing meanwhile. Until
        // it runs (or fails to), this primary is starting, not down.
        this.starting++;
        void this.serve(groupId, token, epoch, handoff?.position)
          .catch((err) => this.failed(err))
          .finally(() => {
            this.starting--;
          });
      },
      onRenewed: (sentNs) => this.renewed(sentNs),
      onDemote: async (why) => this.loseLeadership(why, false),
      onNoCandidate: (why) => {
        this.lastError = `no failover: ${why}`;
        // Said on etcd too (at most every 10 s), for the dashboard to alert an admin.
        const now = Date.now();
        if (now - this.noCandidateSaidAt < 10_000) return;
        this.noCandidateSaidAt = now;
        void this.groupStore
          ?.put(NO_CANDIDATE_PREFIX + this.nodeId, JSON.stringify({ why, at: now }))
          .catch(() => undefined);
      },
      incumbent: this.incumbent !== null,
      forced: () => this.forcedHere(),
      paused: () => this.paused,
      synchronous: () => this.node.synchronousStandby?.(),
    });
  }

  /** Starts the service for the leadership of `token`; stops it again if that leadership ended meanwhile. */
  private async serve(groupId: string, token: string, epoch: number, handoffPosition?: number): Promise<void> {
    const ttlMs = this.leaseTtlMs;
    const moved = this.moving;
    this.moving = false;
    // Read before this node publishes a position of its own as primary.
    const previous = await lastPrimaryPosition(this.groupStore!).catch(() => null);
    let served: { dataTime: number | null; parts?: DataPart[] | null };
    try {
      served = await this.node.becomePrimary(epoch, (pgid) => this.guard(pgid, ttlMs), handoffPosition);
    } catch (err) {
      this.failedAt = process.hrtime.bigint();
      if (this.loop?.token === token)
        await this.loseLeadership(`could not start the service: ${(err as Error).message}`, true);
      return;
    }
    if (this.loop?.token !== token) {
      await this.node.stepDown('the leader key was lost while the service started');
      this.watchdog?.disarm();
      return;
    }
    if (this.group && epoch > this.group.epoch) {
      this.group = { ...this.group, epoch, primary: this.nodeId };
      this.node.setGroup(this.group);
    }
    this.node.log(`${groupId}: took the leader key (epoch ${epoch}); the service serves`);
    const history: FailoverHistory = {
      holder: this.nodeId,
      token,
      epoch,
      cause: moved ? 'moved' : handoffPosition !== undefined ? 'switchover' : previous ? 'failover' : 'start',
      servingAt: Date.now(),
      dataTime: served.dataTime,
      parts: served.parts ?? null,
      previous: previous && {
        holder: previous.holder,
        token: previous.token,
        at: previous.at,
        downAt: previous.downAt ?? null,
        why: previous.why ?? null,
        handoffAt: previous.handoff?.to === this.nodeId ? previous.handoff.at : null,
      },
    };
    await this.groupStore?.put(historyKeyName(token), JSON.stringify(history)).catch(() => undefined);
  }

  /** Arms the watchdog with a service just spawned, from the newest renewal; with none (the leadership ended
   *  meanwhile), its deadline has passed and it kills the service at once. */
  private guard(pgid: number, ttlMs: number): void {
    this.watchdog?.arm(pgid);
    // The deadline this node keeps itself (its last renewal's, or a failsafe extension's), as a renewal's send time.
    const deadline = this.isLeader && !this.losing ? this.deadlineNs : null;
    this.watchdog?.renewed(deadline === null ? 0n : deadline - watchdogDeadlineNs(0n, ttlMs), ttlMs);
  }

  /** The same, for a service the agent starts again on its own account (after an in-place restore). */
  guardSpawn(pgid: number): void {
    this.guard(pgid, this.leaseTtlMs);
  }

  /** Whether the group is in maintenance (an intention the dashboard writes). */
  private async readMaintenance(): Promise<boolean> {
    const text = await this.groupStore?.get(MAINTENANCE_KEY);
    if (!text) return false;
    try {
      return (JSON.parse(text) as { on?: unknown }).on === true;
    } catch {
      return false;
    }
  }

  /** The intention under `key`, if there is a well-formed one. */
  private async readIntent(key: string): Promise<SwitchoverIntent | null> {
    const text = await this.groupStore?.get(key);
    if (!text) return null;
    try {
      return switchoverIntentSchema.parse(JSON.parse(text));
    } catch {
      return null;
    }
  }

  /** Whether an admin forced a failover to this node just now (an intention naming it, fresh, not acted on). */
  private async forcedHere(): Promise<boolean> {
    const intent = await this.readIntent(FORCE_INTENT_KEY);
    if (!intent) return false;
    if (intent.to !== this.nodeId || intent.id === this.handledIntent) return false;
    if (Math.abs(Date.now() - intent.at) > INTENT_FRESH_MS) return false;
    this.handledIntent = intent.id;
    this.node.log('an admin forced a failover to this node: taking the key without the lag check');
    return true;
  }

  /** As primary: a switchover the dashboard asks for, once per intention, and only a fresh one. */
  private async followIntent(): Promise<void> {
    if (!this.isLeader || this.handingOver || !this.groupStore) return;
    const intent = await this.readIntent(SWITCHOVER_INTENT_KEY);
    if (!intent) return;
    if (intent.id === this.handledIntent || Math.abs(Date.now() - intent.at) > INTENT_FRESH_MS) return;
    this.handledIntent = intent.id;
    if (intent.to === this.nodeId) return;
    this.handingOver = true;
    void this.handOver(intent).finally(() => {
      this.handingOver = false;
    });
  }

  /** A drill the dashboard asks of this node, once per intention and only a fresh one: run beside the loop (a
   *  drill takes as long as a restore), its result written for the dashboard. A primary refuses: drills run on a
   *  standby, never touching the service that serves. */
  private async followDrillIntent(): Promise<void> {
    if (this.drilling || !this.groupStore) return;
    const intent = await this.readIntent(DRILL_INTENT_KEY);
    if (!intent) return;
    if (intent.to !== this.nodeId || intent.id === this.handledDrill) return;
    if (Math.abs(Date.now() - intent.at) > INTENT_FRESH_MS) return;
    this.handledDrill = intent.id;
    const store = this.groupStore;
    const startedAt = Date.now();
    const write = (record: DrillRecord) =>
      store
        .put(DRILLS_PREFIX + intent.id, JSON.stringify(record))
        .catch((err: Error) => this.node.log(`could not write the drill's result: ${err.message}`));
    if (this.isLeader) {
      await write({
        node: this.nodeId,
        ok: false,
        snapshot: null,
        dataTime: null,
        timeToReadyMs: 0,
        error: 'this node serves as primary: a drill runs on a standby',
        startedAt,
      });
      return;
    }
    this.drilling = true;
    this.node.log('a drill was asked of this node: restoring the newest shipped data on a scratch port');
    void this.node
      .drill()
      .catch(
        (err: Error): DrillResult => ({
          ok: false,
          snapshot: null,
          dataTime: null,
          timeToReadyMs: Date.now() - startedAt,
          error: err.message,
          leftRunning: false,
        }),
      )
      .then((r) =>
        write({
          node: this.nodeId,
          ok: r.ok,
          snapshot: r.snapshot,
          dataTime: r.dataTime,
          timeToReadyMs: r.timeToReadyMs,
          ...(r.error ? { error: r.error.slice(0, 2000) } : {}),
          startedAt,
        }),
      )
      .finally(() => {
        this.drilling = false;
      });
  }

  /** Hands the key to `intent.to`: the endpoints hold clients and the other members wait; the service stops and
   *  its last data is shipped; then the key is given up for `to` alone to take (leader-loop.ts). */
  private async handOver(intent: SwitchoverIntent): Promise<void> {
    const store = this.groupStore!;
    const failed = (error: string) =>
      store.put(intentResultName(intent.id), JSON.stringify({ ok: false, error })).catch(() => undefined);
    const members = await store.list(MEMBERS_PREFIX).catch(() => new Map<string, string>());
    if (!members.has(intent.to) || !this.group?.settings.members[intent.to])
      return failed(`${intent.to} is not a live member of the group`);
    const ttlMs = this.leaseTtlMs;
    await this.loop!.startHandoff(intent.id, intent.to);
    let last: { dataTime: number };
    try {
      last = await this.node.handOver((pgid) => this.guard(pgid, ttlMs));
    } catch (err) {
      await this.loop?.cancelHandoff().catch(() => undefined);
      return failed(`the last data could not be shipped: ${(err as Error).message}`);
    }
    await this.loop!.finishHandoff(last.dataTime);
    this.deadlineNs = null;
    this.lastRenewalNs = null;
    this.watchdog?.disarm();
    await this.loop?.resign().catch(() => undefined);
    await this.node.stepDown(`switched over to ${intent.to}`);
    this.node.log(`handed the leader key to ${intent.to} (switchover)`);
  }

  /** The epoch of the newest primary: whoever holds the key now, or else the last to publish its position (only
   *  that primary's ships apply on a standby, and a node that served an older epoch knows its data is stale). */
  private async followLeader(): Promise<void> {
    if (this.isLeader || !this.group) return;
    const leader = await this.groupStore!.leader(LEADER_KEY);
    const last = leader ? null : await lastPrimaryPosition(this.groupStore!);
    const token = leader?.token ?? last?.token;
    if (!token) return;
    const epoch = this.group.settings.epochBase + Number(token);
    const primary = leader?.holder ?? last?.holder ?? null;
    if (epoch > this.group.epoch || (epoch === this.group.epoch && primary !== this.group.primary)) {
      this.group = { ...this.group, epoch, primary };
      this.node.setGroup(this.group);
    }
  }

  private renewed(sentNs: bigint): void {
    // A renewal that was under way when the leadership was given up extends nothing.
    if (!this.isLeader || this.losing) return;
    this.failsafeSaid = null;
    const ttlMs = this.leaseTtlMs;
    const next = watchdogDeadlineNs(sentNs, ttlMs);
    if (this.deadlineNs === null || next > this.deadlineNs) this.deadlineNs = next;
    if (this.lastRenewalNs === null || sentNs > this.lastRenewalNs) this.lastRenewalNs = sentNs;
    this.watchdog?.renewed(sentNs, ttlMs);
  }

  /** Past the deadline of the last renewal: the lease may run out any moment, so the service stops now. */
  private async enforceDeadline(): Promise<void> {
    if (this.deadlineNs === null || process.hrtime.bigint() < this.deadlineNs) return;
    await this.loseLeadership('no renewal of the leader key in time (etcd could not be reached)', true);
  }

  /** Stops the service first (nothing may keep a fenced primary serving), then gives up the key if asked. */
  private loseLeadership(why: string, resign: boolean): Promise<void> {
    this.losing ??= (async () => {
      this.deadlineNs = null;
      this.lastRenewalNs = null;
      try {
        await this.node.stepDown(why);
        this.watchdog?.disarm();
        this.node.log(why);
        if (resign) await this.loop?.resign().catch(() => undefined);
      } finally {
        this.losing = null;
      }
    })();
    return this.losing;
  }

  private async leaveGroup(): Promise<void> {
    if (this.isLeader) await this.loseLeadership('this node left its group', true);
    await this.loop?.stop().catch(() => undefined);
    this.loop = null;
    this.loopSettings = null;
    this.groupStore?.close();
    this.groupStore = null;
    this.group = null;
    this.node.setGroup(null);
  }
}
