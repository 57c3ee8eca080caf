// A stable endpoint that follows a group's leader key on etcd (leader-follower.ts): clients connect to one address
// and reach whichever member holds the key and serves. It runs as `lifeline endpoint --etcd` on any machine, and
// inside an agent whose config names an `endpoint` (one beside every agent, 13.6): clients are given every
// address, and any one serves. A change of primary cuts what was open (fencing at the door); the same primary
// keeps its connections.
import { StableEndpoint } from '../failover/stable-endpoint';
import { SYNCED_PATH } from '../replication/wal-peer';
import { EtcdStore, type EtcdStoreOptions } from './etcd-store';
import { LeaderFollower, type Route } from './leader-follower';

/** Between two asks of a primary's barrier that said to wait, or could not be asked. */
const BARRIER_RETRY_MS = 100;

export class FollowingEndpoint {
  private readonly proxy: StableEndpoint;
  private follower: LeaderFollower | null = null;
  private store: EtcdStore | null = null;
  private prefix: string | null = null;

  constructor(
    listen: { host: string; port: number },
    /** Told of every change of route (null: nowhere, with why). */
    private readonly onRoute: (route: Route | null, why: string) => void = () => undefined,
  ) {
    this.proxy = new StableEndpoint({ host: listen.host, port: listen.port, holdMs: 30_000, gate: () => this.gate() });
  }

  /** A barrier being asked of the primary, and one asked after it (for the parts of responses that came while the
   *  first was out: it must be asked after they came). */
  private asking: Promise<boolean> | null = null;
  private nextAsk: Promise<boolean> | null = null;

  /** Synchronous replication (15.3): a part of a response passes on once the primary's agent says that its
   *  synchronous standby holds every transaction committed before it came (a commit precedes its response), or
   *  that the group is not synchronous (or degraded to asynchronous). It waits while the primary says to wait or
   *  cannot be asked, and is cut once another primary serves. */
  private gate(): Promise<boolean> | true {
    const settings = this.follower?.groupSettings;
    if (settings?.replication !== 'log' || settings.synchronous === 'off') return true;
    if (!this.asking) {
      const asking = this.askBarrier();
      this.asking = asking.finally(() => {
        this.asking = null;
      });
      return this.asking;
    }
    this.nextAsk ??= this.asking.then(() => {
      this.nextAsk = null;
      const next = this.gate();
      return next === true ? true : next;
    });
    return this.nextAsk;
  }

  private async askBarrier(): Promise<boolean> {
    const route = this.follower?.current;
    if (!route) return false;
    for (;;) {
      const settings = this.follower?.groupSettings;
      const agent = settings?.agents[route.holder];
      if (this.follower?.current?.token !== route.token) return false;
      if (!settings || settings.synchronous === 'off') return true;
      if (agent) {
        try {
          const res = await fetch(new URL(SYNCED_PATH, agent), {
            signal: AbortSignal.timeout(settings.synchronousTimeoutMs + 5000),
          });
          await res.arrayBuffer();
          if (res.status === 200) return true;
        } catch {
          // The primary's agent is out of reach: the response waits (its service is fenced soon if it is gone).
        }
      }
      await new Promise((resolve) => setTimeout(resolve, BARRIER_RETRY_MS));
    }
  }

  /** Listens; resolves with the port. Until it follows a group, clients are held, then closed. */
  start(): Promise<number> {
    return this.proxy.start();
  }

  /** Follows the group whose keys are under `store.prefix` (null: none, and routes nowhere). The same group again
   *  changes nothing. */
  follow(store: EtcdStoreOptions | null): void {
    if ((store?.prefix ?? null) === this.prefix) return;
    this.unfollow();
    this.prefix = store?.prefix ?? null;
    if (!store) {
      this.proxy.setTarget(null, { cutExisting: true });
      this.onRoute(null, 'not in a group on etcd');
      return;
    }
    this.store = new EtcdStore(store);
    this.follower = new LeaderFollower({
      store: this.store,
      onRoute: (route, why) => {
        // Only a change of primary (or of its address) reaches here.
        this.proxy.setTarget(route?.target ?? null, { cutExisting: true });
        this.onRoute(route, why);
      },
    });
    this.follower.start();
  }

  get route(): Route | null {
    return this.follower?.current ?? null;
  }

  private unfollow(): void {
    this.follower?.stop();
    this.store?.close();
    this.follower = null;
    this.store = null;
  }

  async stop(): Promise<void> {
    this.unfollow();
    await this.proxy.stop();
  }
}
