// An endpoint's view of its group on etcd: who holds the leader key, and where that member's service is. It reads
// the key every `pollMs`, and never goes back to a token lower than the newest it has seen (a stale answer cannot
// route to a fenced primary). If no read has succeeded within TTL − max(1 s, TTL/4) of the send time of the last
// one that did, the primary it knows may be fenced by now without its hearing of it: it stops routing until it
// reads etcd again (13.2).
import type { Target } from '../failover/stable-endpoint';
import type { EtcdStore } from './etcd-store';
import { CONFIG_KEY, historyKeyName, LEADER_KEY, parseGroupSettings, type GroupSettings } from './group-keys';
import { lastPrimaryPosition, liveHandoff } from './leader-loop';
import { watchdogDeadlineNs } from './watchdog-deadline';

export interface Route {
  holder: string;
  token: string;
  target: Target;
}

export interface LeaderFollowerOptions {
  store: EtcdStore;
  /** Told of every change of route; null: route nowhere (no leader, a member with no address, or etcd is out of
   *  reach), with why. */
  onRoute(route: Route | null, why: string): void;
  pollMs?: number;
}

export class LeaderFollower {
  private settings: GroupSettings | null = null;
  private highest = -1n;
  private route: Route | null = null;
  private lastReadNs: bigint | null = null;
  private timer: NodeJS.Timeout | null = null;
  private guard: NodeJS.Timeout | null = null;
  private stopped = false;
  private reads = 0;

  constructor(private readonly options: LeaderFollowerOptions) {}

  get current(): Route | null {
    return this.route;
  }

  /** The group's settings as last read. */
  get groupSettings(): GroupSettings | null {
    return this.settings;
  }

  start(): void {
    const pollMs = this.options.pollMs ?? 250;
    const step = async () => {
      if (this.stopped) return;
      await this.poll();
      if (!this.stopped) this.timer = setTimeout(() => void step(), pollMs);
    };
    void step();
    this.guard = setInterval(() => this.checkDeadline(), 100);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.guard) clearInterval(this.guard);
  }

  private async poll(): Promise<void> {
    const sentNs = process.hrtime.bigint();
    try {
      // The settings (members' addresses, TTL) change rarely: read every 8th time, and at first.
      if (this.reads++ % 8 === 0 || !this.settings)
        this.settings = parseGroupSettings(await this.options.store.get(CONFIG_KEY)) ?? this.settings;
      const { store } = this.options;
      const leader = await store.leader(LEADER_KEY);
      const token = leader ? BigInt(leader.token) : null;
      // A new holder is routed to once its service serves (it says so in the group's history); a switchover
      // under way holds clients until the next primary serves.
      const serving =
        leader && token !== this.highest ? (await store.get(historyKeyName(leader.token))) !== null : true;
      const last = leader ? await lastPrimaryPosition(store) : null;
      // Only the current holder's handoff: the next primary may not have published its own position yet.
      const handoff = last && last.token === leader?.token ? liveHandoff(last) : null;
      if (this.lastReadNs === null || sentNs > this.lastReadNs) this.lastReadNs = sentNs;
      if (!leader || token === null) return this.set(null, 'no member holds the leader key');
      if (token < this.highest) return;
      if (!serving) return this.set(null, `${leader.holder} holds the leader key and is starting its service`);
      this.highest = token;
      if (handoff) return this.set(null, `a switchover to ${handoff.to} is under way`);
      const target = this.settings?.members[leader.holder];
      if (!target) return this.set(null, `${leader.holder} holds the leader key but has no service address`);
      this.set({ holder: leader.holder, token: leader.token, target }, `${leader.holder} holds the leader key`);
    } catch {
      // Judged by the deadline: one failed read is not yet a reason to stop routing.
    }
  }

  private checkDeadline(): void {
    if (this.route === null || this.lastReadNs === null) return;
    const ttlMs = (this.settings?.ttlSeconds ?? 3) * 1000;
    if (process.hrtime.bigint() >= watchdogDeadlineNs(this.lastReadNs, ttlMs))
      this.set(null, 'etcd could not be read in time: the primary may be fenced');
  }

  private set(route: Route | null, why: string): void {
    const same =
      route?.holder === this.route?.holder &&
      route?.token === this.route?.token &&
      route?.target.host === this.route?.target.host &&
      route?.target.port === this.route?.target.port;
    if (same) return;
    this.route = route;
    this.options.onRoute(route, why);
  }
}
