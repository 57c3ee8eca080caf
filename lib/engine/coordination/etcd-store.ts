// Failover coordination on etcd, after Patroni: a group's leader key is held under a lease that its holder renews;
// another member may create the key only once it is gone (the lease expired, or was revoked on resign), in one
// transaction that compares the key's create_revision with 0, so that two members can never both hold it. The
// key's create_revision is the fencing token: it only ever grows, and whatever acts for a primary (the storage
// API, the endpoints) refuses a token lower than the newest it has seen.
//
// Renewals are explicit (no background keepalive): the caller renews on its own monotonic schedule, and a renewal
// that fails is a lost leadership for it to act on (stop the service) rather than something retried behind its
// back. This file is the store only; the leader loop is built on it.
import { circuitBreaker, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import { Etcd3, EtcdLeaseInvalidError, isRecoverableError, type Lease } from 'etcd3';

import { EngineError } from '../errors';

export interface LeaderRecord {
  /** Who holds the key (a node id). */
  holder: string;
  /** The key's create_revision: the fencing token of this leadership. */
  token: string;
}

export interface Leadership extends LeaderRecord {
  /** Renews the lease for another TTL: 'lost' when it is gone (expired, revoked), 'unreachable' when etcd did not
   *  answer in time (the lease may still run: the caller keeps to its own deadline). */
  renew(): Promise<RenewResult>;
  /** Gives the key up at once (deleted only if it is still this leadership's), and revokes the lease. */
  resign(): Promise<void>;
}

export type RenewResult = 'renewed' | 'lost' | 'unreachable';

export interface Registration {
  /** Renews the value's lease and writes `value`; false once the lease is gone (the value with it). */
  update(value: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The pause before a renewal that failed at once is tried again on another member. */
const RETRY_PAUSE_MS = 100;
/** The shortest attempt at a renewal worth making. */
const MIN_ATTEMPT_MS = 300;
/** How long a member that keeps failing is passed over before it is tried again. */
const MEMBER_PASSED_OVER_MS = 200;

export interface EtcdStoreOptions {
  endpoints: string[];
  /** Every key the store reads or writes is under this prefix (a group's: per-node credentials are limited to it). */
  prefix: string;
  /** How long one request may take before it counts as failed. */
  requestTimeoutMs?: number;
  /** The node's own etcd user (etcd-access.ts), where authentication is on. */
  auth?: { username: string; password: string };
}

export class EtcdStore {
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly timeoutMs: number;

  constructor(options: EtcdStoreOptions) {
    if (!options.prefix.endsWith('/')) throw new EngineError('invalid-argument', 'an etcd prefix ends with /');
    this.timeoutMs = options.requestTimeoutMs ?? 2000;
    this.client = new Etcd3({
      hosts: options.endpoints,
      ...(options.auth ? { auth: options.auth } : {}),
      dialTimeout: this.timeoutMs,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + this.timeoutMs }),
      // A member that failed three calls in a row is passed over for a moment only (the client's default is five
      // seconds): etcd back after an outage is read again at once, well within a lease's TTL.
      faultHandling: {
        host: () =>
          circuitBreaker(handleWhen(isRecoverableError), {
            halfOpenAfter: MEMBER_PASSED_OVER_MS,
            breaker: new ConsecutiveBreaker(3),
          }),
      },
    });
    this.prefix = options.prefix;
  }

  /** Tries for the leader key `name` as `holder`, under a lease of `ttlSeconds`: the leadership if the key was
   *  free, null if someone holds it. */
  async campaign(name: string, holder: string, ttlSeconds: number): Promise<Leadership | null> {
    const key = this.prefix + name;
    const lease = this.client.lease(ttlSeconds, { autoKeepAlive: false });
    lease.on('lost', () => undefined);
    try {
      const leaseId = await lease.grant();
      const txn = await this.client
        .if(key, 'Create', '==', 0)
        .then(this.client.put(key).value(holder).lease(leaseId))
        .else(this.client.get(key))
        .commit();
      if (!txn.succeeded) {
        await lease.revoke().catch(() => undefined);
        return null;
      }
      const token = String(txn.header.revision);
      return this.leadership(key, holder, token, lease);
    } catch (err) {
      await lease.revoke().catch(() => undefined);
      throw err;
    }
  }

  /** Who holds the leader key `name` now, with its token; null when nobody does. */
  async leader(name: string): Promise<LeaderRecord | null> {
    const res = await this.client.get(this.prefix + name).exec();
    const kv = res.kvs[0];
    return kv ? { holder: kv.value.toString(), token: String(kv.create_revision) } : null;
  }

  /** Deletes the leader key `name` if `holder` holds it: a leadership this process has no lease of (one that a
   *  previous run of the same member held, and that would otherwise stand until its lease ran out). */
  async releaseStale(name: string, holder: string): Promise<boolean> {
    const key = this.prefix + name;
    const txn = await this.client.if(key, 'Value', '==', holder).then(this.client.delete().key(key)).commit();
    return txn.succeeded;
  }

  /** A plain value under the prefix (a member's published replication position, an intention). */
  async put(name: string, value: string): Promise<void> {
    await this.client.put(this.prefix + name).value(value);
  }

  async delete(name: string): Promise<void> {
    await this.client.delete().key(this.prefix + name);
  }

  async get(name: string): Promise<string | null> {
    return this.client.get(this.prefix + name).string();
  }

  /** Every value under `under` (below the prefix), by the rest of its key. */
  async list(under: string): Promise<Map<string, string>> {
    const all = await this.client
      .getAll()
      .prefix(this.prefix + under)
      .strings();
    return new Map(Object.entries(all).map(([key, value]) => [key.slice(this.prefix.length + under.length), value]));
  }

  /** A value that lives as long as its writer renews it (a member's published state: gone with the member). */
  async register(name: string, value: string, ttlSeconds: number): Promise<Registration> {
    const key = this.prefix + name;
    const lease = this.client.lease(ttlSeconds, { autoKeepAlive: false });
    lease.on('lost', () => undefined);
    await lease.put(key).value(value);
    return {
      update: async (next) => {
        try {
          if ((await this.keepAlive(lease, this.timeoutMs)) !== 'renewed') return false;
          await lease.put(key).value(next);
          return true;
        } catch {
          return false;
        }
      },
      close: () => lease.revoke().catch(() => undefined),
    };
  }

  close(): void {
    this.client.close();
  }

  /** One keep-alive of `lease`, bounded by `ms`. It is a stream, which the client gives no deadline of its own: with
   *  one, a stream stuck on a member that is gone fails, and the client marks that member failed and picks
   *  another next time. */
  private async keepAlive(lease: Lease, ms: number): Promise<RenewResult> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'unreachable'>((resolve) => {
      timer = setTimeout(() => resolve('unreachable'), ms);
    });
    const answer = lease.keepaliveOnce({ deadline: Date.now() + ms }).then(
      (res): RenewResult => (Number(res.TTL) > 0 ? 'renewed' : 'lost'),
      (err): RenewResult => (err instanceof EtcdLeaseInvalidError ? 'lost' : 'unreachable'),
    );
    try {
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private leadership(key: string, holder: string, token: string, lease: Lease): Leadership {
    return {
      holder,
      token,
      renew: async () => {
        // Within one bound: an attempt on a member that is gone (refused, or past its deadline) is tried again on
        // another, so that the loss of one member of three costs a renewal nothing.
        // Each attempt gets a third of the bound: one that hangs on a member that does not answer leaves time to
        // try the others.
        const until = Date.now() + this.timeoutMs;
        const attemptMs = Math.max(MIN_ATTEMPT_MS, Math.floor(this.timeoutMs / 3));
        for (;;) {
          const started = Date.now();
          const result = await this.keepAlive(lease, Math.min(attemptMs, until - started));
          if (result !== 'unreachable') return result;
          // A refusal comes at once: not tried again in a spin.
          if (Date.now() - started < RETRY_PAUSE_MS) await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
          if (until - Date.now() < MIN_ATTEMPT_MS) return result;
        }
      },
      resign: async () => {
        // Only this leadership's key: one that expired and was taken by another member is not touched.
        await this.client.if(key, 'Create', '==', Number(token)).then(this.client.delete().key(key)).commit();
        await lease.revoke().catch(() => undefined);
      },
    };
  }
}
