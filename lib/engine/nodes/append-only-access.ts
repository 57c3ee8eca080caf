// What a node may do to the repository: read anything, add content-addressed objects (data, index, snapshots)
// whose bytes match their names, and write or drop its own locks. Nothing else: no deletes, no rewrites, no keys
// or config. This is what stands between a compromised node and the backups. What a node adds is opened and
// checked before it is stored: a lock must be its own, shared and dated now (a forged one would block every
// backup); an index must say exactly what the headers of the packs it lists say (a forged one could make prune
// delete live packs), and supersede nothing; a snapshot must be of its own sources (checkSnapshot); both only under
// the lock they name, live and the node's own (one judged stale may have let a prune remove what they refer to).
// What a node adds counts against its quota (bytes and objects), charged before the write: over it, the upload
// is refused with 507 and the node's backup fails with `quota-exceeded`, before its index and snapshot, so
// nothing of it is indexed.
import { createHash } from 'node:crypto';

import { EngineError, isEngineError } from '../errors';
import { OBJECT_KINDS, type ObjectKind, type Storage } from '../repository/storage';
import { decodeIndex } from '../repository/index-file';
import { readLockRecord, STALE_LOCK_MS } from '../repository/lock';
import { fetchPackHeader, sameEntries } from '../repository/pack';
import { CLOCK_WINDOW_MS } from './signed-request';

/** A lock record is a few hundred bytes sealed. */
const MAX_LOCK_BYTES = 4096;
/** Locks a node may hold at once (a backup, a ship round and a restore or two). */
const MAX_LOCKS_PER_NODE = 16;

const CONTENT_ADDRESSED = new Set(['data', 'index', 'snapshots']);

export type AccessResult = { status: number; body: Buffer };

function text(status: number, message: string): AccessResult {
  return { status, body: Buffer.from(message) };
}

/** Who wrote which lock; the control plane keeps this in its database so that it outlives a restart. */
export interface LockOwners {
  get(name: string): string | undefined;
  set(name: string, nodeId: string): void;
  delete(name: string): void;
}

/** What each node may still add. `reserve` charges the object to the node at once (so that concurrent uploads
 *  cannot overshoot) and hands back the way to undo that charge if the write does not happen, or says why the
 *  node may not add it; `forget` drops an object the node removed (its own lock). */
export interface NodeQuota {
  reserve(nodeId: string, name: string, size: number): { ok: true; undo: () => void } | { ok: false; why: string };
  forget(name: string): void;
}

/** Decides whether a node may add a snapshot manifest: null to accept, else why not. The control plane opens
 *  the manifest and checks whose source it names, so a node cannot plant snapshots that would push another
 *  source's real ones out of its retention. */
export type SnapshotCheck = (nodeId: string, id: string, sealed: Buffer) => Promise<string | null>;

export interface AccessOptions {
  /** The repository's encryption key (opened on first need): what nodes upload is opened with it and checked. */
  key: () => Promise<Buffer>;
  /** Lock names each node wrote, so that it can refresh and release its own locks and no one else's. */
  lockOwners?: LockOwners;
  checkSnapshot?: SnapshotCheck;
  /** Told of every upload refused for what it holds (a forged lock, index or snapshot): worth an alert. */
  onRefused?: (nodeId: string, name: string, why: string) => void;
  quota?: NodeQuota;
  /** Told of every upload refused for the node's quota: worth an alert too. */
  onOverQuota?: (nodeId: string, name: string, why: string) => void;
}

export class AppendOnlyAccess {
  private readonly lockOwners: LockOwners;

  constructor(
    private readonly storage: Storage,
    private readonly options: AccessOptions,
  ) {
    this.lockOwners = options.lockOwners ?? new Map<string, string>();
  }

  async handle(
    nodeId: string,
    method: string,
    name: string,
    query: URLSearchParams,
    body: Buffer,
  ): Promise<AccessResult> {
    const [kind, id] = name.split('/', 2) as [string, string | undefined];
    if (name.includes('..') || (!(OBJECT_KINDS as readonly string[]).includes(kind) && name !== 'config'))
      return text(400, `no such object kind: ${kind}`);
    try {
      if (method === 'GET') return await this.read(kind, name, query);
      if (!id || !/^[0-9a-f]{64}$|^[0-9a-f]{32}$/.test(id)) return text(400, `bad object name ${name}`);
      if (method === 'PUT') return await this.add(nodeId, kind, id, name, body, query);
      if (method === 'DELETE') return await this.remove(nodeId, kind, name);
      return text(405, `${method} is not allowed`);
    } catch (err) {
      if (isEngineError(err, 'not-found')) return text(404, err.message);
      if (isEngineError(err, 'repository-exists')) return text(409, err.message);
      throw err;
    }
  }

  private async read(kind: string, name: string, query: URLSearchParams): Promise<AccessResult> {
    if (query.get('list'))
      return { status: 200, body: Buffer.from(JSON.stringify(await this.storage.list(kind as ObjectKind))) };
    if (query.get('exists'))
      return (await this.storage.exists(name)) ? text(200, 'yes') : text(404, `${name} is not in the repository`);
    const offset = query.get('offset');
    const length = query.get('length');
    const range =
      offset === null ? undefined : { offset: Number(offset), length: length === null ? undefined : Number(length) };
    return { status: 200, body: await this.storage.get(name, range) };
  }

  private async add(
    nodeId: string,
    kind: string,
    id: string,
    name: string,
    body: Buffer,
    query: URLSearchParams,
  ): Promise<AccessResult> {
    if (kind === 'locks') {
      const owner = this.lockOwners.get(name);
      if (owner && owner !== nodeId) return text(403, 'a node may only write its own locks');
      // A refresh never brings back a lock that was removed (judged stale): the node must give it up.
      if (owner && !(await this.storage.exists(name))) {
        this.lockOwners.delete(name);
        this.options.quota?.forget(name);
        return text(410, `${name} was removed (judged stale): this lock is lost`);
      }
      if (!owner && (await this.storage.exists(name))) return text(403, 'a node may only write its own locks');
      const refusal = await this.checkLock(nodeId, name, body);
      if (refusal) return this.refuse(nodeId, name, refusal);
      // Locks are not charged to the quota (a node at its quota must still be able to restore), but a node may hold
      // only a few at once, so that it cannot fill the repository with them.
      if (!owner && (await this.locksHeld(nodeId)) >= MAX_LOCKS_PER_NODE)
        return this.refuse(nodeId, name, `a node may hold at most ${MAX_LOCKS_PER_NODE} locks at once`, 429);
      try {
        this.lockOwners.set(name, nodeId);
        await this.storage.put(name, body);
      } catch (err) {
        if (!owner) this.lockOwners.delete(name);
        throw err;
      }
      return text(204, '');
    }
    if (!CONTENT_ADDRESSED.has(kind)) return text(403, `a node may not write ${kind}`);
    if (createHash('sha256').update(body).digest('hex') !== id)
      return text(400, `the bytes sent do not match the name ${name}`);
    if (kind === 'snapshots' && this.options.checkSnapshot) {
      const refusal = await this.options.checkSnapshot(nodeId, id, body);
      if (refusal) return this.refuse(nodeId, name, refusal, 403);
    }
    if (kind === 'index') {
      const refusal = await this.checkIndex(name, id, body);
      if (refusal) return this.refuse(nodeId, name, refusal);
    }
    // An index or a snapshot counts on packs a prune could delete the moment the lock it was written under is
    // judged stale: a node that stalled until then must not add one when it goes on, even if it holds another
    // lock by now (a ship round beside a backup). So it names the lock, which must be there and its own. (A data
    // pack is only ever extra.)
    if (kind !== 'data') {
      const lock = query.get('lock');
      if (!lock || !(await this.holdsLock(nodeId, lock)))
        return text(
          423,
          `${name} is refused: the node does not hold the lock it is written under (${lock ?? 'none named'}): the lock was judged stale and removed, so a prune may have removed what it refers to`,
        );
    }
    // The same name means the same bytes: adding it twice changes nothing, and costs nothing.
    if (await this.storage.exists(name)) return text(204, '');
    const charge = this.options.quota?.reserve(nodeId, name, body.length);
    if (charge && !charge.ok) return this.overQuota(nodeId, name, charge.why);
    try {
      await this.storage.put(name, body, { exclusive: true });
    } catch (err) {
      // Written meanwhile by another upload of the same bytes: this one's charge stands (one charge per object).
      if (!(err instanceof EngineError && err.code === 'repository-exists')) {
        charge?.undo();
        throw err;
      }
    }
    return text(204, '');
  }

  private async holdsLock(nodeId: string, lock: string): Promise<boolean> {
    return /^locks\/[0-9a-f]{32}$/.test(lock) && this.lockOwners.get(lock) === nodeId && this.storage.exists(lock);
  }

  private overQuota(nodeId: string, name: string, why: string): AccessResult {
    this.options.onOverQuota?.(nodeId, name, why);
    return text(507, `quota-exceeded: ${why}`);
  }

  /** The node's locks that are in the repository now (one removed behind the API's back is not counted). */
  private async locksHeld(nodeId: string): Promise<number> {
    let held = 0;
    for (const lock of await this.storage.list('locks'))
      if (this.lockOwners.get(`locks/${lock.name}`) === nodeId) held++;
    return held;
  }

  private refuse(nodeId: string, name: string, why: string, status = 400): AccessResult {
    this.options.onRefused?.(nodeId, name, why);
    return text(status, why);
  }

  /** A node's index file: readable with the repository's key, superseding nothing, and listing for each pack
   *  exactly the blobs the pack's own header lists (so packs come before their index). Null if it may be stored. */
  private async checkIndex(name: string, id: string, body: Buffer): Promise<string | null> {
    const key = await this.options.key();
    let index;
    try {
      index = decodeIndex(key, body, id);
    } catch (err) {
      if (isEngineError(err, 'corrupt')) return `${name} is not an index sealed with the repository's key`;
      throw err;
    }
    if (index.supersedes.length > 0) return 'a node may not supersede index files: only a prune does';
    const sizes = new Map((await this.storage.list('data')).map((o) => [o.name, o.size]));
    for (const pack of index.packs) {
      const size = typeof pack.id === 'string' ? sizes.get(pack.id) : undefined;
      if (size === undefined) return `${name} lists a pack that is not in the repository (packs go before their index)`;
      let header;
      try {
        header = await fetchPackHeader(this.storage, key, pack.id, size);
      } catch (err) {
        if (isEngineError(err, 'corrupt')) return `pack ${pack.id.slice(0, 12)} has no valid header`;
        throw err;
      }
      if (!Array.isArray(pack.blobs) || !sameEntries(header, pack.blobs))
        return `${name} does not list what the header of pack ${pack.id.slice(0, 12)} holds`;
    }
    return null;
  }

  /** A node's lock: readable with the repository's key, its own, shared (a node never needs the repository
   *  alone: prune runs on the control plane), and dated now. Null if it may be stored, else why not. */
  private async checkLock(nodeId: string, name: string, body: Buffer): Promise<string | null> {
    if (body.length > MAX_LOCK_BYTES) return `${name} is too large for a lock`;
    let lock;
    try {
      lock = readLockRecord(await this.options.key(), body, name);
    } catch (err) {
      if (isEngineError(err, 'corrupt')) return `${name} is not a lock sealed with the repository's key`;
      throw err;
    }
    if (lock.owner !== nodeId) return `${name} is not a lock of this node (it names ${lock.owner ?? 'no node'})`;
    if (lock.exclusive || lock.solo) return 'a node may only take shared locks';
    if (Math.abs(lock.time - Date.now()) > CLOCK_WINDOW_MS)
      return `${name} is dated ${new Date(lock.time).toISOString()}, more than ${CLOCK_WINDOW_MS / 1000} s from now`;
    return null;
  }

  private async remove(nodeId: string, kind: string, name: string): Promise<AccessResult> {
    if (kind !== 'locks') return text(403, 'nodes have append-only access: they cannot delete from the repository');
    const owner = this.lockOwners.get(name);
    if (owner === nodeId) {
      await this.storage.delete(name);
      this.lockOwners.delete(name);
      this.options.quota?.forget(name);
      return text(204, '');
    }
    const info = (await this.storage.list('locks')).find((o) => `locks/${o.name}` === name);
    if (!info) return text(204, '');
    // A lock nobody refreshed for this long is stale for every reader; clearing it destroys nothing.
    if (Date.now() - info.mtimeMs > STALE_LOCK_MS) {
      await this.storage.delete(name);
      this.lockOwners.delete(name);
      this.options.quota?.forget(name);
      return text(204, '');
    }
    return text(403, 'a node may only remove its own locks');
  }
}
