// A stable endpoint that follows a group's leader key on etcd (leader-follower.ts): clients connect to one address
// and reach whichever member holds the key and serves. It runs as `lifeline endpoint --etcd` on any machine, and
// inside an agent whose config names an `endpoint` (one beside every agent, 13.6): clients are given every
// address, and any one serves. A change of primary cuts what was open (fencing at the door); the same primary
// keeps its connections.
import { StableEndpoint } from '../failover/stable-endpoint';
import { EtcdStore, type EtcdStoreOptions } from './etcd-store';
import { LeaderFollower, type Route } from './leader-follower';

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
    this.proxy = new StableEndpoint({ host: listen.host, port: listen.port, holdMs: 30_000 });
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
