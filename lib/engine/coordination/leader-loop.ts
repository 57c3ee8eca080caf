// One member's side of a failover group's coordination, after Patroni's HA loop, one step per `tick()`:
// - the primary renews its leader key and publishes its replication position; a renewal that fails is a lost
//   leadership (`onDemote`: the caller stops its service at once);
// - a standby publishes its own position under a lease (gone with it), follows a leader that holds the key, and
//   when none does tries for the key only if its lag behind the primary's last published position is within the
//   group's maximum and no live member has newer data (equal data: the lower node id goes first). With no standby
//   that qualifies there is no failover: `onNoCandidate` says why, for an alert.
// The caller runs `tick()` on its own monotonic schedule (at most every TTL/3); a test drives it step by step.
import type { EtcdStore, Leadership, Registration } from './etcd-store';

export interface LeaderLoopOptions {
  store: EtcdStore;
  nodeId: string;
  ttlSeconds: number;
  /** How far (in the position's unit, bytes of WAL) a standby may be behind the primary and still take over. */
  maxLag: number;
  /** This member's replication position now: how much of the primary's data it holds. */
  position(): Promise<number>;
  onPromote(token: string): Promise<void>;
  onDemote(why: string): Promise<void>;
  onNoCandidate?(why: string): void;
}

export type TickResult = 'leader' | 'promoted' | 'demoted' | 'following' | 'deferring' | 'not-eligible';

interface Published {
  position: number;
}

export class LeaderLoop {
  private leadership: Leadership | null = null;
  private registration: Registration | null = null;

  constructor(private readonly options: LeaderLoopOptions) {}

  /** The fencing token while this member holds the leader key, else null. */
  get token(): string | null {
    return this.leadership?.token ?? null;
  }

  async tick(): Promise<TickResult> {
    const { store, nodeId, ttlSeconds } = this.options;
    const position = await this.options.position();
    const mine = JSON.stringify({ position } satisfies Published);
    if (this.leadership) {
      if (!(await this.leadership.renew())) {
        this.leadership = null;
        await this.options.onDemote('the leader key was lost (its lease was not renewed in time)');
        return 'demoted';
      }
      await store.put('primary-position', mine);
      await this.publish(mine);
      return 'leader';
    }
    await this.publish(mine);
    if (await store.leader('leader')) return 'following';
    const last = await store.get('primary-position');
    const primary = last ? (JSON.parse(last) as Published).position : 0;
    if (primary - position > this.options.maxLag) {
      this.options.onNoCandidate?.(
        `${nodeId} is ${primary - position} behind the primary's last position, more than the group's maximum lag of ${this.options.maxLag}`,
      );
      return 'not-eligible';
    }
    for (const [member, value] of await store.list('members/')) {
      if (member === nodeId) continue;
      const theirs = (JSON.parse(value) as Published).position;
      if (theirs > position || (theirs === position && member < nodeId)) return 'deferring';
    }
    const won = await store.campaign('leader', nodeId, ttlSeconds);
    if (!won) return 'following';
    this.leadership = won;
    await this.options.onPromote(won.token);
    return 'promoted';
  }

  /** Gives up the leader key at once (a switchover, a clean stop), and withdraws this member's state. */
  async stop(): Promise<void> {
    await this.leadership?.resign();
    this.leadership = null;
    await this.registration?.close();
    this.registration = null;
  }

  private async publish(value: string): Promise<void> {
    const key = `members/${this.options.nodeId}`;
    if (this.registration && (await this.registration.update(value))) return;
    this.registration = await this.options.store.register(key, value, this.options.ttlSeconds);
  }
}
