// One member's side of a failover group's coordination, after Patroni's HA loop, one step per `tick()`:
// - the primary renews its leader key and publishes its replication position; a renewal that etcd refuses is a
//   lost leadership (`onDemote`: the caller stops its service at once); one that gets no answer in time returns
//   'unreachable', and the caller keeps to its own deadline (the watchdog's) from the last renewal that succeeded;
// - a standby publishes its own position under a lease (gone with it), follows a leader that holds the key, and
//   when none does tries for the key only if it may (`eligible`: a service that just failed here, say), if its lag
//   behind the primary's last published position is within the group's maximum and no live member has newer data
//   (equal data: the lower node id goes first). With no standby that qualifies there is no failover:
//   `onNoCandidate` says why, for an alert;
// - in a synchronous group, the primary names its synchronous standby with its position (before any write that
//   standby acknowledged is acknowledged to a client), and no other member takes the key by itself while it is
//   named: only it holds every acknowledged write (15.3).
// The caller runs `tick()` on its own monotonic schedule (at most every TTL/3); a test drives it step by step.
import type { EtcdStore, Leadership, Registration } from './etcd-store';
import { LEADER_KEY, MEMBERS_PREFIX, PRIMARY_POSITION_KEY } from './group-keys';

export interface LeaderLoopOptions {
  store: EtcdStore;
  nodeId: string;
  ttlSeconds: number;
  /** How far (in the position's unit) a standby may be behind the primary and still take over. */
  maxLag: number;
  /** This member's replication position now: how much of the primary's data it holds. */
  position(): Promise<number>;
  /** Null when this member may take the key now, else why not. */
  eligible?(): string | null;
  /** The key is this member's: `sentNs` is the monotonic time its lease was asked for (the lease runs from no
   *  earlier than that). `handoff`: it was handed over in a switchover, with the previous primary's last data at
   *  `position`, which this member must hold before it serves. */
  onPromote(token: string, sentNs: bigint, handoff: { position: number } | null): Promise<void>;
  /** A renewal succeeded: the lease runs at least until `sentNs` + TTL. */
  onRenewed?(sentNs: bigint): void;
  onDemote(why: string): Promise<void>;
  onNoCandidate?(why: string): void;
  /** This member already serves as primary (the group moves here from the dashboard's coordinator): its first
   *  try for the key skips the checks a standby makes. */
  incumbent?: boolean;
  /** True when an admin forced a failover to this member (no standby qualified): it takes the free key without
   *  the lag and freshness checks. */
  forced?(): Promise<boolean>;
  /** True while the group is in maintenance: no member takes the key by itself. */
  paused?(): boolean;
  /** On the primary of a synchronous group: the standby it names synchronous (null: none, it is degraded to
   *  asynchronous); undefined where the group is not synchronous. */
  synchronous?(): string | null | undefined;
}

export type TickResult = 'leader' | 'unreachable' | 'promoted' | 'demoted' | 'following' | 'deferring' | 'not-eligible';

interface Published {
  position: number;
  /** False while the member may not take the key (a standby defers only to one that may). */
  eligible?: boolean;
}

/** What the primary publishes at each renewal, and once more when its service fails. */
export interface PrimaryPosition {
  position: number;
  holder: string;
  /** The leadership it serves under. */
  token: string;
  /** When it published this (its wall clock): the primary was alive then. */
  at: number;
  /** When its service failed, and why, if it did and the agent could still say so. */
  downAt?: number;
  why?: string;
  /** A switchover under way: the primary hands the key to `to`, who alone may take it, once `ready` (the service
   *  stopped, its last data shipped: `position` is then that data's time). */
  handoff?: Handoff;
  /** In a synchronous group: the standby that holds every write the primary acknowledged (null: degraded). */
  synchronous?: string | null;
}

export interface Handoff {
  /** The intention's id (the dashboard's). */
  id: string;
  to: string;
  ready: boolean;
  /** When it began (the primary's clock). */
  at: number;
}

/** A handoff older than this is void: the named standby did not take the key, and any member may. */
export const HANDOFF_MS = 30_000;

/** The handoff under way in a primary's position, if any and not void. */
export function liveHandoff(last: PrimaryPosition | null): Handoff | null {
  const h = last?.handoff;
  return h && Math.abs(Date.now() - h.at) < HANDOFF_MS ? h : null;
}

/** The primary's last published position; null before any primary published. */
export async function lastPrimaryPosition(store: EtcdStore): Promise<PrimaryPosition | null> {
  const text = await store.get(PRIMARY_POSITION_KEY);
  return text ? (JSON.parse(text) as PrimaryPosition) : null;
}

export class LeaderLoop {
  private leadership: Leadership | null = null;
  private registration: Registration | null = null;
  private incumbent: boolean;
  /** A switchover this member, as primary, is handing the key over in. */
  private handoff: Handoff | null = null;
  private finalPosition: number | null = null;

  constructor(private readonly options: LeaderLoopOptions) {
    this.incumbent = options.incumbent ?? false;
  }

  /** The fencing token while this member holds the leader key, else null. */
  get token(): string | null {
    return this.leadership?.token ?? null;
  }

  async tick(): Promise<TickResult> {
    const { store, nodeId } = this.options;
    if (this.leadership) {
      const sentNs = process.hrtime.bigint();
      const renewed = await this.leadership.renew();
      if (renewed === 'lost') {
        this.leadership = null;
        await this.options.onDemote('the leader key was lost (its lease was not renewed in time)');
        return 'demoted';
      }
      if (renewed === 'unreachable') return 'unreachable';
      this.options.onRenewed?.(sentNs);
      const position = await this.options.position();
      await this.publishPrimary({ position });
      await this.publish(JSON.stringify({ position } satisfies Published));
      return 'leader';
    }
    const position = await this.options.position();
    const why = this.options.eligible?.() ?? null;
    await this.publish(JSON.stringify({ position, eligible: why === null } satisfies Published));
    const leader = await store.leader(LEADER_KEY);
    // A key in this member's name that it holds no lease of is a previous run's: give it up now rather than
    // leave the group without a serving primary until its lease runs out.
    if (leader?.holder === nodeId) await store.releaseStale(LEADER_KEY, nodeId);
    else if (leader && this.incumbent) {
      // Serving, it found the key taken by another: it stops at once.
      this.incumbent = false;
      await this.options.onDemote(`${leader.holder} holds the leader key`);
      return 'demoted';
    } else if (leader) return 'following';
    if (this.incumbent) {
      this.incumbent = false;
      return this.campaign();
    }
    const last = await lastPrimaryPosition(store);
    // A switchover: only the member it names takes the key, once the primary has stopped and shipped its last.
    const handoff = liveHandoff(last);
    if (handoff) {
      if (handoff.to !== nodeId || !handoff.ready) return 'deferring';
      return this.campaign({ position: last!.position });
    }
    if (await this.options.forced?.()) return this.campaign();
    if (this.options.paused?.()) return 'deferring';
    if (why) return 'not-eligible';
    const synchronous = last?.synchronous;
    if (synchronous && synchronous !== nodeId) {
      this.options.onNoCandidate?.(
        `the group replicates synchronously and ${synchronous} is its synchronous standby: only it holds every acknowledged write`,
      );
      return 'not-eligible';
    }
    // The synchronous standby holds every acknowledged write: it defers to no one.
    if (synchronous === nodeId) return this.campaign();
    const primary = last?.position ?? 0;
    if (primary - position > this.options.maxLag) {
      this.options.onNoCandidate?.(
        `${nodeId} is ${primary - position} behind the primary's last position, more than the group's maximum lag of ${this.options.maxLag}`,
      );
      return 'not-eligible';
    }
    for (const [member, value] of await store.list(MEMBERS_PREFIX)) {
      if (member === nodeId) continue;
      const theirs = JSON.parse(value) as Published;
      if (theirs.eligible === false) continue;
      if (theirs.position > position || (theirs.position === position && member < nodeId)) return 'deferring';
    }
    return this.campaign();
  }

  private async campaign(handoff: { position: number } | null = null): Promise<TickResult> {
    const sentNs = process.hrtime.bigint();
    const won = await this.options.store.campaign(LEADER_KEY, this.options.nodeId, this.options.ttlSeconds);
    if (!won) return 'following';
    this.leadership = won;
    this.down = null;
    this.handoff = null;
    this.finalPosition = null;
    await this.options.onPromote(won.token, sentNs, handoff);
    return 'promoted';
  }

  /** Starts handing the key to `to` (a switchover): from now on no other member takes it, and the endpoints
   *  hold new connections. */
  async startHandoff(id: string, to: string): Promise<void> {
    this.handoff = { id, to, ready: false, at: Date.now() };
    await this.publishPrimary({ position: await this.options.position() });
  }

  /** The service is stopped and its last data, of time `position`, shipped: `to` may take the key. */
  async finishHandoff(position: number): Promise<void> {
    if (!this.handoff) return;
    this.handoff = { ...this.handoff, ready: true };
    this.finalPosition = position;
    await this.publishPrimary({ position });
  }

  /** The handoff did not happen (the last ship failed): the primary serves on. */
  async cancelHandoff(): Promise<void> {
    this.handoff = null;
    this.finalPosition = null;
    await this.publishPrimary({ position: await this.options.position() });
  }

  /** Publishes the primary's position (with its synchronous standby) now; throws if etcd did not take it. */
  async publishNow(): Promise<void> {
    if (!this.leadership) throw new Error('this member does not hold the leader key');
    await this.publishPrimary({ position: await this.options.position() });
  }

  /** Says, while still the leader, that the service failed at `at`: the outage's start for whoever takes over. */
  async markDown(why: string, at: number): Promise<void> {
    this.down = { downAt: at, why };
    await this.publishPrimary({ position: await this.options.position() });
  }

  /** The failure of this leadership's service, once said: every position it publishes from then on says it too. */
  private down: { downAt: number; why: string } | null = null;

  /** The primary's position, published in turn: each value is made as its turn comes, so a later one (a naming of
   *  the synchronous standby) is never overwritten by one made before it. */
  private publishPrimary(fields: Pick<PrimaryPosition, 'position'>): Promise<void> {
    const turn = this.publishing.then(() => this.putPrimary(fields));
    this.publishing = turn.catch(() => undefined);
    return turn;
  }

  private publishing: Promise<void> = Promise.resolve();

  private async putPrimary(fields: Pick<PrimaryPosition, 'position'>): Promise<void> {
    const held = this.leadership;
    if (!held) return;
    const value: PrimaryPosition = {
      ...fields,
      ...(this.down ?? {}),
      // While a handoff is ready, the position is that of the last data shipped.
      ...(this.finalPosition !== null ? { position: this.finalPosition } : {}),
      ...(this.handoff ? { handoff: this.handoff } : {}),
      ...(this.options.synchronous?.() !== undefined ? { synchronous: this.options.synchronous?.() } : {}),
      holder: this.options.nodeId,
      token: held.token,
      at: Date.now(),
    };
    await this.options.store.put(PRIMARY_POSITION_KEY, JSON.stringify(value));
  }

  /** Gives up the leader key at once (the service failed, a switchover, a clean stop); the member stays. */
  async resign(): Promise<void> {
    const held = this.leadership;
    this.leadership = null;
    await held?.resign();
  }

  /** Resigns, and withdraws this member's published state. */
  async stop(): Promise<void> {
    await this.resign();
    await this.registration?.close();
    this.registration = null;
  }

  private async publish(value: string): Promise<void> {
    const key = MEMBERS_PREFIX + this.options.nodeId;
    if (this.registration && (await this.registration.update(value))) return;
    this.registration = await this.options.store.register(key, value, this.options.ttlSeconds);
  }
}
