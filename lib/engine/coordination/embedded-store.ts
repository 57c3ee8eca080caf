// The embedded coordination store, for one machine: the part of etcd's v3 API that Lifeline's coordination uses
// (keys in one revision order, transactions, leases with keep-alives, users and prefix roles), served over gRPC
// with etcd's own protocol definition, so that the agents, the endpoints and the dashboard run the very same code
// on it as on etcd (etcd-store.ts, etcd-access.ts). It runs as its own detached process (`lifeline store`) and keeps
// its state in SQLite, written before each answer: a restart keeps every key and the revision (the fencing tokens
// only ever grow), and gives every lease a full TTL again, as an etcd leader change does. It is one process on one
// machine: it makes no claim to survive that machine's loss. Where etcd is installed, use etcd.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import Database from 'better-sqlite3';

import { EngineError } from '../errors';

type Bytes = Buffer;

interface KeyValue {
  key: Bytes;
  value: Bytes;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease: string;
}

interface Permission {
  permType: 'Read' | 'Write' | 'Readwrite';
  key: Bytes;
  range_end: Bytes;
}

/** Raised inside a request: answered as etcd would, with its gRPC status and etcd's own message (the client maps
 *  the message to its typed errors). */
class StoreError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

const PERMISSION_DENIED = () => new StoreError(grpc.status.PERMISSION_DENIED, 'etcdserver: permission denied');
const LEASE_NOT_FOUND = () => new StoreError(grpc.status.NOT_FOUND, 'etcdserver: requested lease not found');

/** The shortest and longest lease granted, in seconds. */
const MIN_TTL = 1;
const MAX_TTL = 9_000_000_000;
/** How often expired leases are swept. */
const SWEEP_MS = 100;
/** An auth token unused this long ends (etcd's simple tokens last five minutes). */
const TOKEN_IDLE_MS = 5 * 60_000;

function protoPath(): string {
  // etcd's own definition of its API, as the etcd3 client ships it.
  return path.join(path.dirname(require.resolve('etcd3/package.json')), 'proto', 'rpc.proto');
}

/** The keys [key, rangeEnd) as etcd reads them: no end, one key; an end of one zero byte, every key from `key`. */
function rangeOf(key: Bytes, rangeEnd: Bytes): { from: Bytes; to: Bytes | null; single: boolean } {
  if (rangeEnd.length === 0) return { from: key, to: null, single: true };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { from: key, to: null, single: false };
  return { from: key, to: rangeEnd, single: false };
}

/** Whether permission `p` covers every key of [key, rangeEnd). */
function covers(p: Permission, key: Bytes, rangeEnd: Bytes): boolean {
  const want = rangeOf(key, rangeEnd);
  const have = rangeOf(p.key, p.range_end);
  if (have.single) return want.single && Buffer.compare(want.from, have.from) === 0;
  if (Buffer.compare(want.from, have.from) < 0) return false;
  if (have.to === null) return true;
  if (want.single) return Buffer.compare(want.from, have.to) < 0;
  return want.to !== null && Buffer.compare(want.to, have.to) <= 0;
}

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${scryptSync(password, salt, 32).toString('hex')}`;
}

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** Off the event loop's thread: a flood of sign-ins must not hold up keep-alives. */
async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [salt, hash] = stored.split(':');
  const expected = Buffer.from(hash, 'hex');
  return timingSafeEqual(await scryptAsync(password, Buffer.from(salt, 'hex'), expected.length), expected);
}

export interface EmbeddedStoreOptions {
  /** Where its SQLite file lives (made with mode 0700). */
  dir: string;
  host?: string;
  /** 0 for any free port. */
  port?: number;
}

export class EmbeddedStore {
  private readonly db: Database.Database;
  private readonly server = new grpc.Server();
  /** Lease id → its TTL (seconds) and when it runs out (monotonic ms). */
  private readonly leases = new Map<string, { ttl: number; expires: number }>();
  /** Auth token → its user and when it was last used (monotonic ms). A token idle for TOKEN_IDLE_MS ends, as
   *  do all at a restart: the client authenticates again. */
  private readonly tokens = new Map<string, { user: string; used: number }>();
  /** What an unknown user's password is checked against: the same work as for a known one. */
  private readonly decoy = hashPassword(randomBytes(16).toString('hex'));
  private readonly memberId: string;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly options: EmbeddedStoreOptions) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    // It holds password hashes: the owner's alone, whatever the umask made of a directory that was there.
    chmodSync(options.dir, 0o700);
    const file = path.join(options.dir, 'store.db');
    this.db = new Database(file);
    // One process per state directory: a second one fails here with "database is locked".
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL, create_revision INTEGER NOT NULL,
        mod_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, ttl INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, password TEXT NOT NULL, roles TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS roles (name TEXT PRIMARY KEY, perms TEXT NOT NULL);
      INSERT OR IGNORE INTO meta VALUES ('revision', '1'), ('auth', 'off'), ('next-lease', '1');
    `);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    if (!this.meta('member')) this.setMeta('member', String(BigInt(`0x${randomBytes(7).toString('hex')}`)));
    this.memberId = this.meta('member')!;
    // After a restart every lease runs a full TTL again: its holder may have renewed just before the stop.
    const now = performance.now();
    for (const row of this.db.prepare('SELECT id, ttl FROM leases').all() as { id: string; ttl: number }[])
      this.leases.set(row.id, { ttl: row.ttl, expires: now + row.ttl * 1000 });
  }

  /** Listens; resolves with the port. */
  async start(): Promise<number> {
    const definition = loadSync(protoPath(), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    // biome-ignore lint/suspicious/noExplicitAny: the package definition is untyped by nature.
    const pb = (grpc.loadPackageDefinition(definition) as any).etcdserverpb;
    this.server.addService(pb.KV.service, this.handlers(['Range', 'Put', 'DeleteRange', 'Txn']));
    this.server.addService(pb.Lease.service, {
      ...this.handlers(['LeaseGrant', 'LeaseRevoke', 'LeaseTimeToLive', 'LeaseLeases']),
      LeaseKeepAlive: (call: grpc.ServerDuplexStream<{ ID: string }, unknown>) => this.keepAliveStream(call),
    });
    this.server.addService(
      pb.Auth.service,
      this.handlers([
        'AuthEnable',
        'AuthDisable',
        'AuthStatus',
        'Authenticate',
        'UserAdd',
        'UserGet',
        'UserList',
        'UserDelete',
        'UserChangePassword',
        'UserGrantRole',
        'UserRevokeRole',
        'RoleAdd',
        'RoleGet',
        'RoleList',
        'RoleDelete',
        'RoleGrantPermission',
        'RoleRevokePermission',
      ]),
    );
    this.server.addService(pb.Maintenance.service, this.handlers(['Status']));
    const host = this.options.host ?? '127.0.0.1';
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${this.options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err
          ? reject(new EngineError('io', `the store cannot listen on ${host}:${this.options.port}: ${err.message}`))
          : resolve(p),
      ),
    );
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    return port;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
    this.db.close();
  }

  // ---- the gRPC plumbing -------------------------------------------------------------------------------------

  /** Unary handlers for `methods`, each calling the method of the same name with the request and its caller. */
  private handlers(methods: string[]): grpc.UntypedServiceImplementation {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const method of methods) {
      impl[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const fail = (err: unknown) => {
          if (err instanceof StoreError) callback({ code: err.code, details: err.message });
          else callback({ code: grpc.status.INTERNAL, details: `etcdserver: ${(err as Error).message}` });
        };
        try {
          // biome-ignore lint/suspicious/noExplicitAny: dispatch by the RPC's name.
          const fn = (this as any)[`rpc${method}`] as (req: unknown, user: string | null) => unknown;
          const user = method === 'Authenticate' ? null : this.caller(call.metadata);
          // Every method answers at once but Authenticate, whose password check runs off this thread.
          Promise.resolve(fn.call(this, call.request, user)).then((answer) => callback(null, answer), fail);
        } catch (err) {
          fail(err);
        }
      };
    }
    return impl;
  }

  /** Who calls, from the token in the call's metadata: null with authentication off, else the user (or refused). */
  private caller(metadata: grpc.Metadata): string | null {
    if (this.meta('auth') !== 'on') return null;
    const token = metadata.get('token')[0];
    if (token === undefined) throw new StoreError(grpc.status.INVALID_ARGUMENT, 'etcdserver: user name is empty');
    const session = this.tokens.get(String(token));
    if (!session) throw new StoreError(grpc.status.UNAUTHENTICATED, 'etcdserver: invalid auth token');
    session.used = performance.now();
    return session.user;
  }

  private keepAliveStream(call: grpc.ServerDuplexStream<{ ID: string }, unknown>): void {
    let user: string | null;
    try {
      user = this.caller(call.metadata);
    } catch (err) {
      call.emit('error', { code: (err as StoreError).code, details: (err as StoreError).message });
      return;
    }
    call.on('data', (req: { ID: string }) => {
      // A lease past its time is revoked, not renewed (here, outside any transaction), as etcd does.
      if (this.leases.has(req.ID) && !this.live(req.ID)) this.revokeLease(req.ID);
      // A lease that is gone (or not the caller's to renew) answers a TTL of 0.
      const lease = this.live(req.ID) && this.mayUseLease(user, req.ID) ? this.leases.get(req.ID) : undefined;
      if (lease) lease.expires = performance.now() + lease.ttl * 1000;
      call.write({ header: this.header(), ID: req.ID, TTL: lease ? String(lease.ttl) : '0' });
    });
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  }

  // ---- state ----------------------------------------------------------------------------------------------------

  private meta(name: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: string } | undefined)?.value;
  }

  private setMeta(name: string, value: string): void {
    this.db
      .prepare('INSERT INTO meta VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value')
      .run(name, value);
  }

  private revision(): number {
    return Number(this.meta('revision'));
  }

  private header(): Header {
    return { cluster_id: '1', member_id: this.memberId, revision: String(this.revision()), raft_term: '1' };
  }

  private rows(key: Bytes, rangeEnd: Bytes): KeyValue[] {
    const r = rangeOf(key, rangeEnd);
    const stmt = r.single
      ? this.db.prepare('SELECT * FROM kv WHERE key = ?')
      : r.to === null
        ? this.db.prepare('SELECT * FROM kv WHERE key >= ? ORDER BY key')
        : this.db.prepare('SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key');
    return (r.to === null ? stmt.all(r.from) : stmt.all(r.from, r.to)) as KeyValue[];
  }

  private wire(kv: KeyValue, keysOnly = false) {
    return {
      key: kv.key,
      value: keysOnly ? Buffer.alloc(0) : kv.value,
      create_revision: String(kv.create_revision),
      mod_revision: String(kv.mod_revision),
      version: String(kv.version),
      lease: kv.lease,
    };
  }

  /** Runs `fn` as one write: everything it changes lands at the next revision, or nothing does. The answer's
   *  header carries the revision after it. */
  private write<T extends object>(fn: (next: number, changed: () => void) => T): T & { header: Header } {
    const result = this.db.transaction(() => {
      const next = this.revision() + 1;
      let changes = false;
      const answer = fn(next, () => {
        changes = true;
      });
      if (changes) this.setMeta('revision', String(next));
      return answer;
    })();
    return { ...result, header: this.header() };
  }

  /** Whether lease `id` runs: one past its time does not, though the sweep may not have revoked it yet. Only
   *  a check: it may run inside a write, which a revocation must never be part of (a refused write would roll
   *  the revocation back). */
  private live(id: string): boolean {
    const lease = this.leases.get(id);
    return lease !== undefined && lease.expires > performance.now();
  }

  private sweep(): void {
    const now = performance.now();
    for (const [id, lease] of this.leases) if (lease.expires <= now) this.revokeLease(id);
    for (const [token, session] of this.tokens) if (now - session.used > TOKEN_IDLE_MS) this.tokens.delete(token);
  }

  private revokeLease(id: string): void {
    this.write((_next, changed) => {
      if (this.db.prepare('DELETE FROM kv WHERE lease = ?').run(id).changes > 0) changed();
      this.db.prepare('DELETE FROM leases WHERE id = ?').run(id);
      return {};
    });
    this.leases.delete(id);
  }

  // ---- permissions ------------------------------------------------------------------------------------------------

  private rolesOf(user: string): string[] {
    const row = this.db.prepare('SELECT roles FROM users WHERE name = ?').get(user) as { roles: string } | undefined;
    return row ? (JSON.parse(row.roles) as string[]) : [];
  }

  private isRoot(user: string | null): boolean {
    return user === null || this.rolesOf(user).includes('root');
  }

  private permsOf(role: string): Permission[] {
    const row = this.db.prepare('SELECT perms FROM roles WHERE name = ?').get(role) as { perms: string } | undefined;
    if (!row) return [];
    return (JSON.parse(row.perms) as { permType: Permission['permType']; key: string; range_end: string }[]).map(
      (p) => ({
        permType: p.permType,
        key: Buffer.from(p.key, 'base64'),
        range_end: Buffer.from(p.range_end, 'base64'),
      }),
    );
  }

  /** Refuses the call unless `user` may `mode` every key of [key, rangeEnd). */
  private check(user: string | null, mode: 'Read' | 'Write', key: Bytes, rangeEnd: Bytes): void {
    if (this.isRoot(user)) return;
    const ok = this.rolesOf(user!).some((role) =>
      this.permsOf(role).some((p) => (p.permType === 'Readwrite' || p.permType === mode) && covers(p, key, rangeEnd)),
    );
    if (!ok) throw PERMISSION_DENIED();
  }

  private mayUseLease(user: string | null, id: string): boolean {
    if (this.isRoot(user)) return true;
    const keys = this.db.prepare('SELECT key FROM kv WHERE lease = ?').all(id) as { key: Bytes }[];
    try {
      for (const { key } of keys) this.check(user, 'Write', key, Buffer.alloc(0));
      return true;
    } catch {
      return false;
    }
  }

  private requireRoot(user: string | null): void {
    if (!this.isRoot(user)) throw PERMISSION_DENIED();
  }

  // ---- KV ---------------------------------------------------------------------------------------------------------

  rpcRange(
    req: { key: Bytes; range_end: Bytes; limit: string; count_only: boolean; keys_only: boolean; sort_order: string },
    user: string | null,
  ) {
    this.check(user, 'Read', req.key, req.range_end);
    let kvs = this.rows(req.key, req.range_end);
    if (req.sort_order === 'Descend') kvs = kvs.reverse();
    const count = kvs.length;
    const limit = Number(req.limit);
    const more = limit > 0 && count > limit;
    if (limit > 0) kvs = kvs.slice(0, limit);
    return {
      header: this.header(),
      kvs: req.count_only ? [] : kvs.map((kv) => this.wire(kv, req.keys_only)),
      more,
      count: String(count),
    };
  }

  rpcPut(req: { key: Bytes; value: Bytes; lease: string; prev_kv: boolean }, user: string | null) {
    this.checkPut(user, req);
    return this.write((next, changed) => this.put(req, next, changed));
  }

  private put(req: { key: Bytes; value: Bytes; lease: string; prev_kv: boolean }, next: number, changed: () => void) {
    if (req.key.length === 0) throw new StoreError(grpc.status.INVALID_ARGUMENT, 'etcdserver: key is not provided');
    const lease = req.lease && req.lease !== '0' ? req.lease : '0';
    if (lease !== '0' && !this.live(lease)) throw LEASE_NOT_FOUND();
    const prev = this.rows(req.key, Buffer.alloc(0))[0];
    this.db
      .prepare(
        `INSERT INTO kv VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value,
         mod_revision = excluded.mod_revision, version = version + 1, lease = excluded.lease`,
      )
      .run(req.key, req.value, next, next, lease);
    changed();
    return req.prev_kv && prev ? { prev_kv: this.wire(prev) } : {};
  }

  rpcDeleteRange(req: { key: Bytes; range_end: Bytes; prev_kv: boolean }, user: string | null) {
    this.check(user, 'Write', req.key, req.range_end);
    return this.write((_next, changed) => this.deleteRange(req, changed));
  }

  private deleteRange(req: { key: Bytes; range_end: Bytes; prev_kv: boolean }, changed: () => void) {
    const doomed = this.rows(req.key, req.range_end);
    const del = this.db.prepare('DELETE FROM kv WHERE key = ?');
    for (const kv of doomed) del.run(kv.key);
    if (doomed.length > 0) changed();
    return {
      deleted: String(doomed.length),
      prev_kvs: req.prev_kv ? doomed.map((kv) => this.wire(kv)) : [],
    };
  }

  rpcTxn(req: TxnRequest, user: string | null) {
    this.checkTxn(user, req);
    return this.write((next, changed) => this.txn(req, next, changed));
  }

  /** A put writes its key, and attaches it to its lease only if the caller may write every key on that lease
   *  already: a node must not tie its key to another group's leader lease (to renew it, or to block its revoke). */
  private checkPut(user: string | null, req: { key: Bytes; lease: string }): void {
    this.check(user, 'Write', req.key, Buffer.alloc(0));
    if (req.lease && req.lease !== '0' && !this.mayUseLease(user, req.lease)) throw PERMISSION_DENIED();
  }

  private checkTxn(user: string | null, req: TxnRequest): void {
    for (const c of req.compare) this.check(user, 'Read', c.key, c.range_end);
    for (const op of [...req.success, ...req.failure]) {
      if (op.request_range) this.check(user, 'Read', op.request_range.key, op.request_range.range_end);
      if (op.request_put) this.checkPut(user, op.request_put);
      if (op.request_delete_range)
        this.check(user, 'Write', op.request_delete_range.key, op.request_delete_range.range_end);
      if (op.request_txn) this.checkTxn(user, op.request_txn);
    }
  }

  private txn(req: TxnRequest, next: number, changed: () => void): { succeeded: boolean; responses: object[] } {
    const succeeded = req.compare.every((c) => this.compare(c));
    const responses = (succeeded ? req.success : req.failure).map((op) => {
      if (op.request_range) return { response_range: this.rpcRange(op.request_range, null) };
      // Answers within a transaction carry the header the transaction's answer has.
      if (op.request_put) return { response_put: this.put(op.request_put, next, changed) };
      if (op.request_delete_range) return { response_delete_range: this.deleteRange(op.request_delete_range, changed) };
      if (op.request_txn) return { response_txn: this.txn(op.request_txn, next, changed) };
      throw new StoreError(grpc.status.INVALID_ARGUMENT, 'etcdserver: an empty operation in a transaction');
    });
    return { succeeded, responses };
  }

  private compare(c: Compare): boolean {
    const kvs = this.rows(c.key, c.range_end);
    // No key there: a value compare fails (no value is not an empty one); the others compare with zeros, as in etcd.
    if (kvs.length === 0 && c.target === 'Value') return false;
    const subjects = kvs.length > 0 ? kvs : [null];
    return subjects.every((kv) => {
      let order: number;
      switch (c.target) {
        case 'Version':
          order = Math.sign((kv?.version ?? 0) - Number(c.version));
          break;
        case 'Create':
          order = Math.sign((kv?.create_revision ?? 0) - Number(c.create_revision));
          break;
        case 'Mod':
          order = Math.sign((kv?.mod_revision ?? 0) - Number(c.mod_revision));
          break;
        case 'Lease':
          order = Math.sign(Number(kv?.lease ?? 0) - Number(c.lease));
          break;
        default:
          order = Buffer.compare(kv?.value ?? Buffer.alloc(0), c.value ?? Buffer.alloc(0));
      }
      switch (c.result) {
        case 'Greater':
          return order > 0;
        case 'Less':
          return order < 0;
        case 'NotEqual':
          return order !== 0;
        default:
          return order === 0;
      }
    });
  }

  // ---- leases -----------------------------------------------------------------------------------------------------

  rpcLeaseGrant(req: { TTL: string; ID: string }) {
    const ttl = Math.min(MAX_TTL, Math.max(MIN_TTL, Number(req.TTL)));
    const wanted = req.ID && req.ID !== '0' ? req.ID : '';
    const id = this.db.transaction(() => {
      // Ids never repeat, across restarts too: a holder of an old id must never renew someone else's lease. So
      // an id asked for must be one never given.
      const next = this.meta('next-lease')!;
      if (wanted && (!/^\d{1,19}$/.test(wanted) || BigInt(wanted) < BigInt(next)))
        throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: lease already exists');
      const chosen = wanted || next;
      this.setMeta('next-lease', String(BigInt(chosen) + 1n));
      this.db.prepare('INSERT INTO leases VALUES (?, ?)').run(chosen, ttl);
      return chosen;
    })();
    this.leases.set(id, { ttl, expires: performance.now() + ttl * 1000 });
    return { header: this.header(), ID: id, TTL: String(ttl), error: '' };
  }

  rpcLeaseRevoke(req: { ID: string }, user: string | null) {
    if (!this.live(req.ID)) throw LEASE_NOT_FOUND();
    if (!this.mayUseLease(user, req.ID)) throw PERMISSION_DENIED();
    this.revokeLease(req.ID);
    return { header: this.header() };
  }

  rpcLeaseTimeToLive(req: { ID: string; keys: boolean }, user: string | null) {
    const lease = this.leases.get(req.ID);
    if (!lease) return { header: this.header(), ID: req.ID, TTL: '-1', grantedTTL: '0', keys: [] };
    if (!this.mayUseLease(user, req.ID)) throw PERMISSION_DENIED();
    const keys = req.keys
      ? (this.db.prepare('SELECT key FROM kv WHERE lease = ?').all(req.ID) as { key: Bytes }[]).map((k) => k.key)
      : [];
    const left = Math.max(0, Math.ceil((lease.expires - performance.now()) / 1000));
    return { header: this.header(), ID: req.ID, TTL: String(left), grantedTTL: String(lease.ttl), keys };
  }

  rpcLeaseLeases(_req: unknown, user: string | null) {
    this.requireRoot(user);
    return { header: this.header(), leases: [...this.leases.keys()].map((ID) => ({ ID })) };
  }

  // ---- auth -------------------------------------------------------------------------------------------------------

  rpcAuthEnable(_req: unknown, user: string | null) {
    this.requireRoot(user);
    if (!this.rolesOf('root').includes('root'))
      throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: root user does not have root role');
    this.setMeta('auth', 'on');
    return { header: this.header() };
  }

  rpcAuthDisable(_req: unknown, user: string | null) {
    this.requireRoot(user);
    this.setMeta('auth', 'off');
    this.tokens.clear();
    return { header: this.header() };
  }

  rpcAuthStatus() {
    return { header: this.header(), enabled: this.meta('auth') === 'on', authRevision: '1' };
  }

  async rpcAuthenticate(req: { name: string; password: string }) {
    if (this.meta('auth') !== 'on')
      throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled');
    const row = this.db.prepare('SELECT password FROM users WHERE name = ?').get(req.name) as
      | { password: string }
      | undefined;
    // The same work whether or not the user exists.
    const ok = await passwordMatches(req.password, row?.password ?? this.decoy);
    if (!row || !ok)
      throw new StoreError(
        grpc.status.INVALID_ARGUMENT,
        'etcdserver: authentication failed, invalid user ID or password',
      );
    const token = randomBytes(24).toString('hex');
    this.tokens.set(token, { user: req.name, used: performance.now() });
    return { header: this.header(), token };
  }

  private requireUser(name: string): { roles: string[] } {
    const row = this.db.prepare('SELECT roles FROM users WHERE name = ?').get(name) as { roles: string } | undefined;
    if (!row) throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: user name not found');
    return { roles: JSON.parse(row.roles) as string[] };
  }

  private requireRole(name: string): void {
    if (name !== 'root' && !this.db.prepare('SELECT 1 FROM roles WHERE name = ?').get(name))
      throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: role name not found');
  }

  /** Ends every session of `name` (its password or its existence changed). */
  private dropTokens(name: string): void {
    for (const [token, session] of this.tokens) if (session.user === name) this.tokens.delete(token);
  }

  rpcUserAdd(req: { name: string; password: string }, user: string | null) {
    this.requireRoot(user);
    if (!req.name) throw new StoreError(grpc.status.INVALID_ARGUMENT, 'etcdserver: user name is empty');
    if (this.db.prepare('SELECT 1 FROM users WHERE name = ?').get(req.name))
      throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: user name already exists');
    this.db.prepare('INSERT INTO users VALUES (?, ?, ?)').run(req.name, hashPassword(req.password), '[]');
    return { header: this.header() };
  }

  rpcUserGet(req: { name: string }, user: string | null) {
    if (user !== req.name) this.requireRoot(user);
    return { header: this.header(), roles: this.requireUser(req.name).roles };
  }

  rpcUserList(_req: unknown, user: string | null) {
    this.requireRoot(user);
    const users = (this.db.prepare('SELECT name FROM users ORDER BY name').all() as { name: string }[]).map(
      (u) => u.name,
    );
    return { header: this.header(), users };
  }

  rpcUserDelete(req: { name: string }, user: string | null) {
    this.requireRoot(user);
    this.requireUser(req.name);
    if (req.name === 'root' && this.meta('auth') === 'on')
      throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: invalid auth management');
    this.db.prepare('DELETE FROM users WHERE name = ?').run(req.name);
    this.dropTokens(req.name);
    return { header: this.header() };
  }

  rpcUserChangePassword(req: { name: string; password: string }, user: string | null) {
    this.requireRoot(user);
    this.requireUser(req.name);
    this.db.prepare('UPDATE users SET password = ? WHERE name = ?').run(hashPassword(req.password), req.name);
    this.dropTokens(req.name);
    return { header: this.header() };
  }

  rpcUserGrantRole(req: { user: string; role: string }, user: string | null) {
    this.requireRoot(user);
    const { roles } = this.requireUser(req.user);
    this.requireRole(req.role);
    if (!roles.includes(req.role))
      this.db.prepare('UPDATE users SET roles = ? WHERE name = ?').run(JSON.stringify([...roles, req.role]), req.user);
    return { header: this.header() };
  }

  rpcUserRevokeRole(req: { name: string; role: string }, user: string | null) {
    this.requireRoot(user);
    const { roles } = this.requireUser(req.name);
    if (!roles.includes(req.role))
      throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: role is not granted to the user');
    const left = roles.filter((r) => r !== req.role);
    this.db.prepare('UPDATE users SET roles = ? WHERE name = ?').run(JSON.stringify(left), req.name);
    return { header: this.header() };
  }

  rpcRoleAdd(req: { name: string }, user: string | null) {
    this.requireRoot(user);
    if (!req.name) throw new StoreError(grpc.status.INVALID_ARGUMENT, 'etcdserver: role name is empty');
    if (req.name === 'root' || this.db.prepare('SELECT 1 FROM roles WHERE name = ?').get(req.name))
      throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: role name already exists');
    this.db.prepare('INSERT INTO roles VALUES (?, ?)').run(req.name, '[]');
    return { header: this.header() };
  }

  rpcRoleGet(req: { role: string }, user: string | null) {
    this.requireRoot(user);
    this.requireRole(req.role);
    return { header: this.header(), perm: this.permsOf(req.role) };
  }

  rpcRoleList(_req: unknown, user: string | null) {
    this.requireRoot(user);
    const roles = (this.db.prepare('SELECT name FROM roles ORDER BY name').all() as { name: string }[]).map(
      (r) => r.name,
    );
    return { header: this.header(), roles: ['root', ...roles] };
  }

  rpcRoleDelete(req: { role: string }, user: string | null) {
    this.requireRoot(user);
    if (req.role === 'root')
      throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: invalid auth management');
    this.requireRole(req.role);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM roles WHERE name = ?').run(req.role);
      for (const u of this.db.prepare('SELECT name, roles FROM users').all() as { name: string; roles: string }[]) {
        const roles = JSON.parse(u.roles) as string[];
        if (roles.includes(req.role))
          this.db
            .prepare('UPDATE users SET roles = ? WHERE name = ?')
            .run(JSON.stringify(roles.filter((r) => r !== req.role)), u.name);
      }
    })();
    return { header: this.header() };
  }

  rpcRoleGrantPermission(req: { name: string; perm: Permission }, user: string | null) {
    this.requireRoot(user);
    if (req.name === 'root') return { header: this.header() };
    this.requireRole(req.name);
    const perms = this.permsOf(req.name).filter(
      (p) => !(p.key.equals(req.perm.key) && p.range_end.equals(req.perm.range_end)),
    );
    perms.push({ permType: req.perm.permType, key: req.perm.key, range_end: req.perm.range_end });
    this.savePerms(req.name, perms);
    return { header: this.header() };
  }

  rpcRoleRevokePermission(req: { role: string; key: Bytes; range_end: Bytes }, user: string | null) {
    this.requireRoot(user);
    this.requireRole(req.role);
    const perms = this.permsOf(req.role);
    const left = perms.filter((p) => !(p.key.equals(req.key) && p.range_end.equals(req.range_end)));
    if (left.length === perms.length)
      throw new StoreError(grpc.status.FAILED_PRECONDITION, 'etcdserver: permission is not granted to the role');
    this.savePerms(req.role, left);
    return { header: this.header() };
  }

  private savePerms(role: string, perms: Permission[]): void {
    const text = JSON.stringify(
      perms.map((p) => ({
        permType: p.permType,
        key: p.key.toString('base64'),
        range_end: p.range_end.toString('base64'),
      })),
    );
    this.db.prepare('UPDATE roles SET perms = ? WHERE name = ?').run(text, role);
  }

  // ---- maintenance ------------------------------------------------------------------------------------------------

  rpcStatus() {
    return {
      header: this.header(),
      version: 'lifeline-embedded-1',
      dbSize: '0',
      leader: this.memberId,
      raftIndex: String(this.revision()),
      raftTerm: '1',
    };
  }
}

interface Header {
  cluster_id: string;
  member_id: string;
  revision: string;
  raft_term: string;
}

interface Compare {
  result: 'Equal' | 'Greater' | 'Less' | 'NotEqual';
  target: 'Version' | 'Create' | 'Mod' | 'Value' | 'Lease';
  key: Bytes;
  range_end: Bytes;
  version?: string;
  create_revision?: string;
  mod_revision?: string;
  value?: Bytes;
  lease?: string;
}

interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

interface RequestOp {
  request_range?: {
    key: Bytes;
    range_end: Bytes;
    limit: string;
    count_only: boolean;
    keys_only: boolean;
    sort_order: string;
  };
  request_put?: { key: Bytes; value: Bytes; lease: string; prev_kv: boolean };
  request_delete_range?: { key: Bytes; range_end: Bytes; prev_kv: boolean };
  request_txn?: TxnRequest;
}
