// The storage API's one instance per server process (and repository): it routes each node's requests to its own
// repository or a group's it is a member of (lib/engine/nodes/tenants.ts), remembers which node wrote which lock,
// and the nonces already seen.
import 'server-only';

import { readFileSync } from 'node:fs';
import path from 'node:path';

import { and, eq } from 'drizzle-orm';

import { AppendOnlyAccess, type LockOwners, type NodeQuota } from '../engine/nodes/append-only-access';
import { RequestRate } from '../engine/nodes/request-rate';
import { StorageService } from '../engine/nodes/storage-service';
import { groupRepositoryPassword, nodeRepositoryPassword, tenantPath, type Tenant } from '../engine/nodes/tenants';
import { KNOWN_FEATURES } from '../engine/repository/config';
import { controlStorage } from './s3-credentials';
import { Repository } from '../engine/repository/repository';
import { dataDir } from '../config';
import { db } from '../db/client';
import { failoverGroups, groupMembers, nodeEvents, nodeLocks, nodes } from '../db/schema';
import { nodeSecret } from './node-registry';
import { databaseQuota, nodeLimits } from './node-quota';
import { notify } from './notify';
import { ensureRepository, repositoryInfo } from './repository';
import { snapshotCheck } from './snapshot-check';
import { ensureTenant, listTenants, locationOf } from './tenants';

interface TenantAccess {
  access: AppendOnlyAccess;
  repository: () => Promise<Repository>;
}

interface State {
  location: string;
  service: StorageService;
  tenants: Map<string, TenantAccess>;
}

const holder = globalThis as unknown as { lifelineAgentStorage?: State };

export async function agentStorage(): Promise<StorageService> {
  return (await current()).service;
}

/** A node's repository, opened with the control plane's passphrase: to read what a node says it wrote instead of
 *  believing its report. */
export async function nodeRepository(nodeId: string): Promise<Repository> {
  return tenantAccess(await current(), { kind: 'node', nodeId }).repository();
}

async function current(): Promise<State> {
  const { location } = await ensureRepository();
  if (holder.lifelineAgentStorage?.location !== location) {
    const tenants = new Map<string, TenantAccess>();
    const state: State = {
      location,
      tenants,
      service: new StorageService(
        (nodeId, tenant) => accessFor(state, nodeId, tenant),
        nodeSecret,
        new RequestRate((nodeId) => nodeLimits(nodeId).limits.requestsPerMinute),
      ),
    };
    holder.lifelineAgentStorage = state;
  }
  return holder.lifelineAgentStorage;
}

/** A node reaches its own repository, and a group's while it is a member; each is created on first need. */
async function accessFor(
  state: { tenants: Map<string, TenantAccess> },
  nodeId: string,
  tenant: Tenant,
): Promise<AppendOnlyAccess | { refused: string }> {
  const node = db().select().from(nodes).where(eq(nodes.id, nodeId)).get();
  if (!node) return { refused: 'unknown node' };
  if (tenant.kind === 'node') {
    if (tenant.nodeId !== nodeId) return { refused: 'a node reaches its own repository only' };
    await ensureTenant(tenant, nodeRepositoryPassword(node.secret));
  } else {
    const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, tenant.groupId)).get();
    const member =
      group &&
      db()
        .select()
        .from(groupMembers)
        .where(and(eq(groupMembers.groupId, group.id), eq(groupMembers.nodeId, nodeId)))
        .get();
    if (!group || !member) return { refused: `node ${node.name} is not a member of group ${tenant.groupId}` };
    await ensureTenant(tenant, groupRepositoryPassword(group.groupKey));
  }
  return tenantAccess(state, tenant).access;
}

function tenantAccess(state: { tenants: Map<string, TenantAccess> }, tenant: Tenant): TenantAccess {
  const name = tenantPath(tenant);
  let entry = state.tenants.get(name);
  if (!entry) {
    const location = locationOf(name);
    // Opened once, on the first upload that needs the key (the passphrase's KDF costs about half a second).
    let opened: Promise<Repository> | null = null;
    const repository = () => {
      opened ??= Repository.open(controlStorage(location), readFileSync(repositoryInfo()!.passwordFile, 'utf8'), {
        cacheDir: path.join(dataDir(), 'cache'),
      })
        .then(async (repo) => {
          // Nodes may not write the config: the features their backups use are listed here, for them.
          for (const feature of KNOWN_FEATURES) await repo.enableFeature(feature);
          return repo;
        })
        .catch((err) => {
          opened = null;
          throw err;
        });
      return opened;
    };
    entry = {
      repository,
      access: new AppendOnlyAccess(controlStorage(location), {
        key: async () => (await repository()).key.encryption,
        lockOwners: scopedLockOwners(name),
        checkSnapshot: snapshotCheck(repository, tenant),
        onRefused: alertRefused,
        quota: scopedQuota(name),
        onOverQuota: alertOverQuota,
      }),
    };
    state.tenants.set(name, entry);
  }
  return entry;
}

/** One alert per node and kind of object every ten minutes: a node that keeps sending the same bad thing (a
 *  loop, or an attacker) must not flood the channels. */
const ALERT_EVERY_MS = 10 * 60_000;
const lastAlert = new Map<string, number>();

function alertRefused(nodeId: string, object: string, reason: string): void {
  const node = nodeName(nodeId);
  console.error(`storage API: refused ${object} from node ${node}: ${reason}`);
  if (due(`${nodeId} ${object.split('/')[0]}`)) notify({ type: 'node-refused', node, object, reason });
}

function alertOverQuota(nodeId: string, _object: string, reason: string): void {
  const node = nodeName(nodeId);
  console.error(`storage API: node ${node} is over its quota: ${reason}`);
  if (due(`${nodeId} quota`)) {
    notify({ type: 'quota-exceeded', node, reason });
    db().insert(nodeEvents).values({ nodeId, at: Date.now(), kind: 'quota-exceeded', detail: reason }).run();
  }
}

function nodeName(nodeId: string): string {
  return db().select({ name: nodes.name }).from(nodes).where(eq(nodes.id, nodeId)).get()?.name ?? nodeId;
}

function due(key: string): boolean {
  if (Date.now() - (lastAlert.get(key) ?? 0) < ALERT_EVERY_MS) return false;
  lastAlert.set(key, Date.now());
  return true;
}

/** Lock owners and quota records name objects with their repository's tenant path in front. */
function scopedLockOwners(tenant: string): LockOwners {
  return {
    get: (name) =>
      db()
        .select()
        .from(nodeLocks)
        .where(eq(nodeLocks.name, `${tenant}/${name}`))
        .get()?.nodeId,
    set: (name, nodeId) =>
      void db()
        .insert(nodeLocks)
        .values({ name: `${tenant}/${name}`, nodeId, createdAt: Date.now() })
        .onConflictDoNothing()
        .run(),
    delete: (name) =>
      void db()
        .delete(nodeLocks)
        .where(eq(nodeLocks.name, `${tenant}/${name}`))
        .run(),
  };
}

function scopedQuota(tenant: string): NodeQuota {
  return {
    reserve: (nodeId, name, size) => databaseQuota.reserve(nodeId, `${tenant}/${name}`, size),
    forget: (name) => databaseQuota.forget(`${tenant}/${name}`),
  };
}

/** Forgets the owners of locks that no longer exist (a prune or a stale-lock sweep removed them directly). */
export async function forgetGoneLocks(): Promise<void> {
  const { location } = await ensureRepository();
  const present = new Set((await controlStorage(location).list('locks')).map((o) => `locks/${o.name}`));
  for (const t of listTenants())
    for (const o of await controlStorage(t.location).list('locks')) present.add(`${t.path}/locks/${o.name}`);
  for (const row of db().select().from(nodeLocks).all())
    if (!present.has(row.name)) db().delete(nodeLocks).where(eq(nodeLocks.name, row.name)).run();
}
