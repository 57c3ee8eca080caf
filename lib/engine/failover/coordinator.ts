// The coordinator of one failover group: probes every member (a signed heartbeat to its agent, which also
// renews the primary's lease) and the primary's service, listens for crashes the agents report, and when the
// primary fails: stops routing to it, fences it, promotes the freshest healthy standby, switches the endpoint,
// and records the timeline with the measured RTO and RPO. It is framework-free: the control plane supplies
// persistence, the endpoint and where events go (hooks), so tests drive it with real agents and no dashboard.
import { AgentCallError, AgentClient } from '../nodes/agent-client';
import { type AgentStatus, checkedHealth, type ServiceHealth } from '../nodes/agent-protocol';
import { sealGroupKey } from '../nodes/group-key';
import {
  DEFAULT_DETECTOR,
  FailureDetector,
  probeHttp,
  probeTcp,
  type DetectorOptions,
  type ProbeResult,
} from '../nodes/health-probe';
import { chooseStandby } from './choose-standby';
import type { Target } from './stable-endpoint';

export interface MemberConfig {
  nodeId: string;
  name: string;
  agentUrl: string;
  secret: string;
  priority: number;
  service: Target;
}

export interface GroupConfig {
  id: string;
  name: string;
  members: MemberConfig[];
  primaryNodeId: string | null;
  /** The epoch the current primary was promoted with. */
  epoch: number;
  /** The highest epoch ever handed out (a promotion may have failed after reaching a node). */
  reservedEpoch: number;
  /** Shared by the members for failsafe questions (hex). */
  groupKey: string;
  shippingIntervalMs: number;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  detector: DetectorOptions;
  leaseMs: number;
  /** The lease the coordinator before this one granted, when the group restarts with a shorter one: a primary
   *  that cannot be asked may serve on that long after this coordinator started. */
  priorLeaseMs?: number;
  maintenance: boolean;
  /** Act on crashes the agents report at once (default); false leaves detection to the probes alone. */
  agentReports?: boolean;
  /** The control plane's URL, sent with every heartbeat so that agents find its storage API if it moves. */
  controlPlaneUrl?: string;
  /** The group is coordinated on etcd: who holds its leader key (and with which epoch). The coordinator then only
   *  watches, for the dashboard's tiles: it decides, fences, promotes and routes nothing. */
  leaderOnEtcd?: () => Promise<{ nodeId: string; epoch: number } | null>;
}

export const GROUP_DEFAULTS = {
  shippingIntervalMs: 5000,
  probeIntervalMs: 1000,
  probeTimeoutMs: 1000,
  detector: DEFAULT_DETECTOR,
  leaseMs: 6000,
} as const;

/** Added to a lease before promotion waits it out: covers clock differences between hosts. */
const LEASE_MARGIN_MS = 500;

export type TimelineStep = { step: string; at: number };

export interface FailoverRecord {
  /** `start`: the group had no primary (new, or the control plane stopped mid-failover). */
  kind: 'failover' | 'switchover' | 'start';
  reason: string;
  fromNodeId: string | null;
  toNodeId: string | null;
  ok: boolean;
  error?: string;
  /** When the service stopped answering (the crash the agent saw, or the last good probe). */
  outageStartedAt: number;
  timeline: TimelineStep[];
  /** The gap in service through the endpoint: from the outage to the first good request. */
  rtoMs: number | null;
  /** The age of the data the new primary started from, at the moment of the outage. */
  rpoMs: number | null;
  dataTime: number | null;
}

export interface MemberView {
  nodeId: string;
  agentUp: boolean;
  serviceUp: boolean | null;
  /** The primary's last service probe itself (the detector above smooths these). */
  serviceProbe: ProbeResult | null;
  latencyMs: number | null;
  status: AgentStatus | null;
  lastError: string | null;
}

export interface CoordinatorHooks {
  /** Routes the stable endpoint to `target` (null: hold new connections), cutting connections to the old one. */
  setEndpoint(target: Target | null): Promise<void>;
  /** One request through the stable endpoint, checked as `health` says (the serving node's own definition): true
   *  if the service answered well. */
  probeEndpoint(health: ServiceHealth): Promise<boolean>;
  /** Stores an epoch before a promotion with it is sent, so that no epoch is ever handed out twice. */
  reserveEpoch(epoch: number): void;
  /** Stores the group's primary and the epoch it was promoted with (null: none, during a failover). */
  savePrimary(primaryNodeId: string | null, epoch: number): void;
  onProbe?(nodeId: string, view: MemberView, at: number): void;
  onNodeState?(nodeId: string, state: 'up' | 'down', at: number): void;
  onFailover?(record: FailoverRecord): void;
  onStep?(step: TimelineStep, kind: FailoverRecord['kind']): void;
}

/** How a member's service is checked: as its agent last reported from its config, if that is a well-formed check
 *  on the service's own address (an agent is not trusted to point the dashboard's probes elsewhere); a port that
 *  accepts a connection until then. */
function healthOf(m: MemberRuntime): ServiceHealth {
  return checkedHealth(m.status?.service?.health) ?? { tcp: true };
}

interface MemberRuntime {
  config: MemberConfig;
  client: AgentClient;
  agent: FailureDetector;
  service: FailureDetector;
  status: AgentStatus | null;
  lastServiceOkAt: number | null;
  serviceProbe: ProbeResult | null;
  /** The latest lease end this member may believe it holds. */
  leaseGrantedUntil: number;
  /** When the member last answered anything, with `status` (0: not since a promotion was sent to it). */
  heardAt: number;
  lastError: string | null;
  latencyMs: number | null;
}

export class GroupCoordinator {
  private readonly members = new Map<string, MemberRuntime>();
  private timer: NodeJS.Timeout | null = null;
  private readonly watchers = new AbortController();
  private busy: Promise<FailoverRecord | null> | null = null;
  private stopped = false;
  /** After a failed promotion, the next attempt waits (2 s doubling to a minute), so failures are not a flood. */
  private retryAt = 0;
  private retryDelayMs = 0;
  private readonly startedAt = Date.now();

  constructor(
    private config: GroupConfig,
    private readonly hooks: CoordinatorHooks,
  ) {
    for (const m of config.members) this.members.set(m.nodeId, this.runtime(m));
  }

  get primaryNodeId(): string | null {
    return this.config.primaryNodeId;
  }

  get epoch(): number {
    return this.config.epoch;
  }

  /** Settings that can change while running (maintenance, intervals); members are fixed per coordinator. */
  update(patch: Partial<Pick<GroupConfig, 'maintenance' | 'shippingIntervalMs'>>): void {
    this.config = { ...this.config, ...patch };
  }

  start(): void {
    const primary = this.primary();
    if (!this.config.leaderOnEtcd) void this.hooks.setEndpoint(primary ? primary.config.service : null);
    const tick = () => {
      if (this.stopped) return;
      void this.probeAll().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.config.probeIntervalMs);
      });
    };
    tick();
    if (this.config.agentReports !== false) for (const m of this.members.values()) void this.watch(m);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.watchers.abort();
    await this.busy?.catch(() => undefined);
  }

  views(): MemberView[] {
    return [...this.members.values()].map((m) => this.view(m));
  }

  /** A planned switch to `toNodeId`: hold clients, a final sync, then the switch. Loses no acknowledged write. */
  switchover(toNodeId: string): Promise<FailoverRecord | null> {
    return this.exclusive(() => this.runSwitchover(toNodeId));
  }

  /** The whole group's failover, for a primary that failed: also callable by hand. */
  failover(reason: string, outageStartedAt = Date.now()): Promise<FailoverRecord | null> {
    return this.exclusive(() => this.runFailover(reason, outageStartedAt));
  }

  client(nodeId: string): AgentClient | null {
    return this.members.get(nodeId)?.client ?? null;
  }

  // --- probing -------------------------------------------------------------------------------------------------

  private runtime(config: MemberConfig): MemberRuntime {
    return {
      config,
      client: new AgentClient(config.agentUrl, { nodeId: config.nodeId, secret: config.secret }),
      agent: new FailureDetector(this.config.detector),
      service: new FailureDetector(this.config.detector),
      status: null,
      lastServiceOkAt: null,
      serviceProbe: null,
      leaseGrantedUntil: 0,
      heardAt: 0,
      lastError: null,
      latencyMs: null,
    };
  }

  private primary(): MemberRuntime | null {
    return this.config.primaryNodeId ? (this.members.get(this.config.primaryNodeId) ?? null) : null;
  }

  private view(m: MemberRuntime): MemberView {
    const isPrimary = m.config.nodeId === this.config.primaryNodeId;
    return {
      nodeId: m.config.nodeId,
      agentUp: m.agent.state === 'up',
      serviceUp: isPrimary ? m.service.state !== 'down' : null,
      serviceProbe: isPrimary ? m.serviceProbe : null,
      latencyMs: m.latencyMs,
      status: m.status,
      lastError: m.lastError,
    };
  }

  private async probeAll(): Promise<void> {
    if (this.config.leaderOnEtcd) await this.followEtcd(this.config.leaderOnEtcd);
    const leaseUntil = Date.now() + this.config.leaseMs;
    await Promise.all([...this.members.values()].map((m) => this.probe(m, leaseUntil)));
    const primary = this.primary();
    if (this.stopped || this.busy || this.config.maintenance || this.config.leaderOnEtcd) return;
    if (!primary) {
      // A group starts on its preferred member: until each agent has answered or is known to be down (for up to
      // a lease), one slow to answer its first probe is not passed over.
      const undecided = [...this.members.values()].some((m) => m.agent.state === 'unknown');
      if (undecided && Date.now() < this.startedAt + this.inheritedLeaseMs) return;
      if (Date.now() >= this.retryAt)
        void this.failover('the group has no primary: promoting the freshest healthy member');
    } else if (primary.service.state === 'down') {
      void this.failover(
        'the service stopped answering its health check',
        primary.lastServiceOkAt ?? primary.service.failingSince ?? Date.now(),
      );
    }
  }

  /** On etcd, the primary is whoever holds the leader key: the tiles follow it (an unreadable etcd changes
   *  nothing here; the endpoints judge that for themselves). */
  private async followEtcd(leader: NonNullable<GroupConfig['leaderOnEtcd']>): Promise<void> {
    const now = await leader().catch(() => undefined);
    if (now === undefined) return;
    const nodeId = now && this.members.has(now.nodeId) ? now.nodeId : null;
    const epoch = now?.epoch ?? this.config.epoch;
    if (nodeId === this.config.primaryNodeId && epoch === this.config.epoch) return;
    this.config.primaryNodeId = nodeId;
    this.config.epoch = epoch;
    this.config.reservedEpoch = Math.max(this.config.reservedEpoch, epoch);
    this.hooks.savePrimary(nodeId, epoch);
  }

  private async probe(m: MemberRuntime, leaseUntil: number): Promise<void> {
    const isPrimary = m.config.nodeId === this.config.primaryNodeId;
    const sentAt = Date.now();
    if (isPrimary) m.leaseGrantedUntil = Math.max(m.leaseGrantedUntil, leaseUntil);
    const started = performance.now();
    const [agentResult, serviceResult] = await Promise.all([
      m.client
        .heartbeat(
          {
            groupId: this.config.id,
            role: isPrimary ? 'primary' : 'standby',
            epoch: this.config.epoch,
            leaseMs: this.config.leaseMs,
            leaseUntil,
            shippingIntervalMs: this.config.shippingIntervalMs,
            peers: this.config.members
              .filter((p) => p.nodeId !== m.config.nodeId)
              .map((p) => ({ nodeId: p.nodeId, url: p.agentUrl })),
            groupKey: sealGroupKey(m.config.secret, this.config.groupKey),
            controlPlane: this.config.controlPlaneUrl,
          },
          this.config.probeTimeoutMs,
        )
        .then(
          (status): ProbeResult & { status?: AgentStatus } => ({
            ok: true,
            at: sentAt,
            latencyMs: performance.now() - started,
            status,
          }),
          (err: Error): ProbeResult => ({
            ok: false,
            at: sentAt,
            latencyMs: performance.now() - started,
            error: err.message,
          }),
        ),
      isPrimary ? this.probeService(m) : Promise.resolve(null),
    ]);
    if (agentResult.ok) {
      this.heard(m, (agentResult as { status: AgentStatus }).status);
      // A node may hold an epoch this coordinator never saw (a database restored from backup): stay above it.
      this.config.reservedEpoch = Math.max(this.config.reservedEpoch, m.status!.epoch);
      m.latencyMs = agentResult.latencyMs;
      m.lastError = null;
    } else {
      m.lastError = agentResult.error ?? 'no answer';
    }
    const change = m.agent.record(agentResult);
    if (change && change !== 'unknown')
      this.hooks.onNodeState?.(m.config.nodeId, change, change === 'down' ? (m.agent.failingSince ?? sentAt) : sentAt);
    if (serviceResult && m.config.nodeId === this.config.primaryNodeId) {
      m.service.record(serviceResult);
      m.serviceProbe = serviceResult;
      if (serviceResult.ok) m.lastServiceOkAt = serviceResult.at;
    }
    this.hooks.onProbe?.(m.config.nodeId, this.view(m), sentAt);
  }

  private heard(m: MemberRuntime, status: AgentStatus): AgentStatus {
    m.status = status;
    m.heardAt = Date.now();
    return status;
  }

  /** The member's service, checked as its own config says (its agent reports how): one definition of health. */
  private probeService(m: MemberRuntime): Promise<ProbeResult> {
    const target = m.config.service;
    const health = healthOf(m);
    if ('httpPath' in health)
      return probeHttp(`http://${target.host}:${target.port}${health.httpPath}`, this.config.probeTimeoutMs);
    return probeTcp(target, this.config.probeTimeoutMs);
  }

  /** Long-polls an agent so that a crash it sees reaches us at once, not at the next probes. */
  private async watch(m: MemberRuntime): Promise<void> {
    let since = -1;
    while (!this.stopped) {
      try {
        const status = await m.client.watch(since, 20_000, this.watchers.signal);
        since = status.version;
        this.heard(m, status);
        const exit = status.service.lastExit;
        const isPrimary = m.config.nodeId === this.config.primaryNodeId;
        const decides = !this.busy && !this.config.maintenance && !this.config.leaderOnEtcd;
        if (isPrimary && status.service.state === 'exited' && exit && decides) {
          void this.failover(`the service process exited (${exit.signal ?? `code ${exit.code}`})`, exit.at);
        }
      } catch {
        if (this.stopped) return;
        await new Promise((r) => setTimeout(r, this.config.probeIntervalMs));
      }
    }
  }

  // --- failover and switchover ----------------------------------------------------------------------------------

  private exclusive(fn: () => Promise<FailoverRecord | null>): Promise<FailoverRecord | null> {
    if (this.config.leaderOnEtcd)
      return Promise.reject(new Error(`${this.config.name} is coordinated on etcd: its members decide failovers`));
    // A stopped coordinator decides nothing: its successor may already be running.
    if (this.stopped) return Promise.resolve(null);
    if (this.busy) return this.busy.then(() => null);
    this.busy = fn().finally(() => (this.busy = null));
    return this.busy;
  }

  private async runFailover(reason: string, outageStartedAt: number): Promise<FailoverRecord | null> {
    const old = this.primary();
    const timeline: TimelineStep[] = [];
    const step = (name: string) => {
      const s = { step: name, at: Date.now() };
      timeline.push(s);
      this.hooks.onStep?.(s, 'failover');
    };
    step(old ? `failure detected: ${reason}` : reason);
    await this.hooks.setEndpoint(null);
    // From here on no heartbeat renews the old primary's lease; they tell it to stand by instead.
    this.config = { ...this.config, primaryNodeId: null };
    this.hooks.savePrimary(null, this.config.epoch);
    if (old) {
      step('stopped routing to the old primary');
      await this.fence(old, step);
    } else {
      await this.fenceStrays(step);
    }

    const standby = chooseStandby(
      [...this.members.values()].map((m) => ({
        nodeId: m.config.nodeId,
        healthy: m.agent.state === 'up',
        dataTime: m.status?.data.dataTime ?? null,
        priority: m.config.priority,
      })),
      old?.config.nodeId ?? null,
    );
    // With no healthy standby, the old primary is restarted where it is, if its agent still answers.
    const next = standby ? this.members.get(standby.nodeId)! : old && old.agent.state === 'up' ? old : null;
    const kind = old ? 'failover' : 'start';
    if (!next)
      return this.record({
        kind,
        reason,
        fromNodeId: old?.config.nodeId ?? null,
        toNodeId: null,
        ok: false,
        error: 'no healthy standby to promote',
        outageStartedAt,
        timeline,
        rtoMs: null,
        rpoMs: null,
        dataTime: null,
      });
    if (next !== old) {
      // The newest shipped data may be newer than what the standby applied: take it (bounded in time).
      await next.client
        .applyNow(undefined, 3000)
        .then((s) => this.heard(next, s))
        .catch(() => undefined);
    }
    return this.promoteAndSwitch(
      next,
      { kind, reason, fromNodeId: old?.config.nodeId ?? null, outageStartedAt, timeline },
      step,
    );
  }

  private async runSwitchover(toNodeId: string): Promise<FailoverRecord | null> {
    const old = this.primary();
    const next = this.members.get(toNodeId);
    if (!next || next === old) throw new Error('choose a standby of this group to switch to');
    const timeline: TimelineStep[] = [];
    const step = (name: string) => {
      const s = { step: name, at: Date.now() };
      timeline.push(s);
      this.hooks.onStep?.(s, 'switchover');
    };
    const outageStartedAt = Date.now();
    step(`switchover to ${next.config.name} requested`);
    await this.hooks.setEndpoint(null);
    step('holding new connections at the endpoint');
    let shipped: string | null = null;
    if (old) {
      try {
        const status = await old.client.shipNow();
        shipped = status.data.snapshot;
        step('final sync shipped from the old primary');
      } catch (err) {
        await this.hooks.setEndpoint(old.config.service);
        step(`switchover abandoned: the final sync failed (${(err as Error).message})`);
        return this.record({
          kind: 'switchover',
          reason: 'planned',
          fromNodeId: old.config.nodeId,
          toNodeId,
          ok: false,
          error: (err as Error).message,
          outageStartedAt,
          timeline,
          rtoMs: null,
          rpoMs: null,
          dataTime: null,
        });
      }
      this.config = { ...this.config, primaryNodeId: null };
      this.hooks.savePrimary(null, this.config.epoch);
      await this.fence(old, step);
    }
    if (shipped) {
      try {
        this.heard(next, await next.client.applyNow(shipped));
        step(`final sync applied on ${next.config.name}`);
      } catch (err) {
        // The old primary holds every acknowledged write: it takes the service back rather than lose any.
        step(
          `applying the final sync on ${next.config.name} failed (${(err as Error).message}): ${old!.config.name} takes the service back`,
        );
        return this.promoteAndSwitch(
          old!,
          { kind: 'switchover', reason: 'planned', fromNodeId: old!.config.nodeId, outageStartedAt, timeline },
          step,
        );
      }
    }
    return this.promoteAndSwitch(
      next,
      { kind: 'switchover', reason: 'planned', fromNodeId: old?.config.nodeId ?? null, outageStartedAt, timeline },
      step,
    );
  }

  /** With no primary on record (a new group, or a control plane that stopped mid-failover), any member may still
   *  believe it is one: demote those that say so. One that cannot be asked is waited out before the promotion
   *  (awaitUnfencedLeases). */
  private async fenceStrays(step: (name: string) => void): Promise<void> {
    const epoch = this.config.reservedEpoch;
    for (const m of this.members.values()) {
      // One that cannot be asked is waited out before the promotion.
      if (m.agent.state !== 'up' || m.status?.role !== 'primary') continue;
      try {
        this.heard(m, await m.client.demote(epoch, 5000));
        step(`fenced ${m.config.name}: it still served as primary`);
      } catch {
        // waited out before the promotion
      }
    }
  }

  /** The longest lease a coordinator before this one may have granted. */
  private get inheritedLeaseMs(): number {
    return Math.max(this.config.leaseMs, this.config.priorLeaseMs ?? 0);
  }

  /** Before `next` is promoted, when some other member may be a primary this coordinator has not fenced (one that
   *  cannot be asked): it may serve on a lease a previous coordinator granted, which ends at the latest a lease
   *  after this one started. (Serving on in failsafe needs `next`'s word, and `next` itself starts serving only
   *  once any extension it allowed has run out: Agent.promote.) */
  private async awaitUnfencedLeases(next: MemberRuntime, step: (name: string) => void): Promise<void> {
    const unsure = [...this.members.values()].filter(
      (m) => m !== next && !(m.heardAt >= this.startedAt && m.status?.role === 'standby'),
    );
    const wait = this.startedAt + this.inheritedLeaseMs + LEASE_MARGIN_MS - Date.now();
    if (unsure.length === 0 || wait <= 0) return;
    step(
      `${unsure.map((m) => m.config.name).join(', ')} cannot be asked: waiting ${wait} ms until any lease a previous control plane granted has run out`,
    );
    await new Promise((r) => setTimeout(r, wait));
  }

  /** Demotes the old primary if its agent answers; otherwise waits until its lease has certainly run out. */
  private async fence(old: MemberRuntime, step: (name: string) => void, epoch = this.config.epoch): Promise<void> {
    try {
      this.heard(old, await old.client.demote(epoch, 5000));
      step(`fenced ${old.config.name}: its agent stopped the service`);
    } catch (err) {
      const wait = old.leaseGrantedUntil + LEASE_MARGIN_MS - Date.now();
      step(
        `${old.config.name} cannot be reached (${(err as Error).message}): waiting ${Math.max(0, wait)} ms for its lease to run out`,
      );
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      step(`fenced ${old.config.name}: its lease has run out`);
    }
  }

  private async promoteAndSwitch(
    next: MemberRuntime,
    base: Pick<FailoverRecord, 'kind' | 'reason' | 'fromNodeId' | 'outageStartedAt' | 'timeline'>,
    step: (name: string) => void,
  ): Promise<FailoverRecord> {
    await this.awaitUnfencedLeases(next, step);
    if (this.stopped) {
      step(`not promoting ${next.config.name}: the control plane is stopping`);
      return this.record({
        ...base,
        toNodeId: next.config.nodeId,
        ok: false,
        error: 'the control plane stopped before the promotion',
        rtoMs: null,
        rpoMs: null,
        dataTime: next.status?.data.dataTime ?? null,
      });
    }
    // Heartbeats keep carrying the old epoch until the promotion succeeds: one sent before it and arriving after
    // it is then older than the node's new epoch and cannot demote it.
    const epoch = Math.max(this.config.epoch, this.config.reservedEpoch) + 1;
    this.config = { ...this.config, reservedEpoch: epoch };
    this.hooks.reserveEpoch(epoch);
    const dataTime = next.status?.data.dataTime ?? null;
    // Until it answers, whatever we knew of it no longer holds: the promotion may reach it even if the call fails.
    next.heardAt = 0;
    next.status = next.status && { ...next.status, role: 'primary' };
    try {
      this.heard(next, await next.client.promote(epoch, this.config.leaseMs));
      // The agent counts its lease from when its service serves, which is before this answer.
      next.leaseGrantedUntil = Date.now() + this.config.leaseMs;
    } catch (err) {
      step(`promoting ${next.config.name} failed: ${(err as Error).message}`);
      // Unless the node answered that it refused, the promotion may have reached it after all: make sure it does
      // not serve before anyone else may.
      if (!(err instanceof AgentCallError && err.status === 409)) {
        next.leaseGrantedUntil = Date.now() + this.config.leaseMs;
        await this.fence(next, step, epoch);
      }
      return this.record({
        ...base,
        toNodeId: next.config.nodeId,
        ok: false,
        error: (err as Error).message,
        rtoMs: null,
        rpoMs: null,
        dataTime,
      });
    }
    this.config = { ...this.config, primaryNodeId: next.config.nodeId, epoch };
    this.hooks.savePrimary(next.config.nodeId, epoch);
    next.service = new FailureDetector(this.config.detector);
    next.lastServiceOkAt = Date.now();
    step(`promoted ${next.config.name} (epoch ${epoch})`);
    await this.hooks.setEndpoint(next.config.service);
    step('endpoint switched');
    const firstGood = await this.firstGoodRequest(healthOf(next));
    if (firstGood === null) {
      step('no good request through the endpoint within 30 s');
      return this.record({
        ...base,
        toNodeId: next.config.nodeId,
        ok: false,
        error: 'the endpoint did not serve after the switch',
        rtoMs: null,
        rpoMs: null,
        dataTime,
      });
    }
    step('first good request through the endpoint');
    return this.record({
      ...base,
      toNodeId: next.config.nodeId,
      ok: true,
      rtoMs: base.kind === 'start' ? null : firstGood - base.outageStartedAt,
      rpoMs: base.kind === 'start' || dataTime === null ? null : Math.max(0, base.outageStartedAt - dataTime),
      dataTime,
    });
  }

  private async firstGoodRequest(health: ServiceHealth): Promise<number | null> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !this.stopped) {
      if (await this.hooks.probeEndpoint(health)) return Date.now();
      await new Promise((r) => setTimeout(r, 25));
    }
    return null;
  }

  private record(record: FailoverRecord): FailoverRecord {
    this.retryDelayMs = record.ok ? 0 : Math.min(60_000, Math.max(2000, this.retryDelayMs * 2));
    this.retryAt = Date.now() + this.retryDelayMs;
    this.hooks.onFailover?.(record);
    return record;
  }
}
