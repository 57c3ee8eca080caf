// The storage API's one instance per server process (and repository): it remembers which node wrote which
// lock, and the nonces already seen.
import 'server-only';

import { readFileSync } from 'node:fs';

import { eq } from 'drizzle-orm';

import { AppendOnlyAccess, type LockOwners } from '../engine/nodes/append-only-access';
import { RequestRate } from '../engine/nodes/request-rate';
import { StorageService } from '../engine/nodes/storage-service';
import { KNOWN_FEATURES } from '../engine/repository/config';
import { storageFor } from '../engine/repository/open-repository';
import { Repository } from '../engine/repository/repository';
import { db } from '../db/client';
import { nodeEvents, nodeLocks, nodes } from '../db/schema';
import { nodeSecret } from './node-registry';
import { databaseQuota, nodeLimits } from './node-quota';
import { notify } from './notify';
import { ensureRepository } from './repository';
import { snapshotCheck } from './snapshot-check';

const holder = globalThis as unknown as {
  lifelineAgentStorage?: { location: string; service: StorageService; repository: () => Promise<Repository> };
};

export async function agentStorage(): Promise<StorageService> {
  return (await current()).service;
}

/** The repository the nodes write to, opened with the control plane's passphrase: to read what a node says it
 *  wrote instead of believing its report. */
export async function nodesRepository(): Promise<Repository> {
  return (await current()).repository();
}

async function current() {
  const { location, passwordFile } = await ensureRepository();
  if (holder.lifelineAgentStorage?.location !== location) {
    // Opened once, on the first upload that needs the key (the passphrase's KDF costs about half a second).
    let opened: Promise<Repository> | null = null;
    const repository = () => {
      opened ??= Repository.open(storageFor(location), readFileSync(passwordFile, 'utf8'))
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
    holder.lifelineAgentStorage = {
      location,
      repository,
      service: new StorageService(
        new AppendOnlyAccess(storageFor(location), {
          key: async () => (await repository()).key.encryption,
          lockOwners,
          checkSnapshot: snapshotCheck(repository),
          onRefused: alertRefused,
          quota: databaseQuota,
          onOverQuota: alertOverQuota,
        }),
        nodeSecret,
        new RequestRate((nodeId) => nodeLimits(nodeId).limits.requestsPerMinute),
      ),
    };
  }
  return holder.lifelineAgentStorage;
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

const lockOwners: LockOwners = {
  get: (name) => db().select().from(nodeLocks).where(eq(nodeLocks.name, name)).get()?.nodeId,
  set: (name, nodeId) =>
    void db().insert(nodeLocks).values({ name, nodeId, createdAt: Date.now() }).onConflictDoNothing().run(),
  delete: (name) => void db().delete(nodeLocks).where(eq(nodeLocks.name, name)).run(),
};

/** Forgets the owners of locks that no longer exist (a prune or a stale-lock sweep removed them directly). */
export async function forgetGoneLocks(): Promise<void> {
  const { location } = await ensureRepository();
  const present = new Set((await storageFor(location).list('locks')).map((o) => `locks/${o.name}`));
  for (const row of db().select().from(nodeLocks).all()) if (!present.has(row.name)) lockOwners.delete(row.name);
}
