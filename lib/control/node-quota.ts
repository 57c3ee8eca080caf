// Each node's share of the repository: how many bytes and objects it may add, and how many storage requests a
// minute it may make. Every object a node adds is recorded (node_objects) when it is admitted, so usage is what the
// node added and the repository still holds: what a prune removes drops out (forgetGoneObjects), and what two
// nodes both back up is charged once, to the first. The limits are the defaults below unless an admin set others
// for the node.
import 'server-only';

import { and, count, eq, lt, sum } from 'drizzle-orm';

import type { NodeQuota } from '../engine/nodes/append-only-access';
import { OBJECT_KINDS } from '../engine/repository/storage';
import { controlStorage } from './s3-credentials';
import { db } from '../db/client';
import { nodeObjects, nodes } from '../db/schema';
import { formatBytes } from '../format';
import { ensureRepository } from './repository';
import { listTenants } from './tenants';

export interface QuotaLimits {
  bytes: number;
  objects: number;
  requestsPerMinute: number;
}

/** Room for a few years of daily backups of a typical server, and requests enough for a fast restore. */
export const QUOTA_DEFAULTS: QuotaLimits = {
  bytes: 100 * 2 ** 30,
  objects: 1_000_000,
  requestsPerMinute: 6000,
};

/** Only data packs must fit under the limits: an index, a snapshot or a lock may go this far beyond them, so that a
 *  backup whose data got in can always record itself, and one that went over fails before anything of it does. */
const METADATA_ALLOWANCE = { bytes: 64 * 2 ** 20, objects: 100 };

/** A record younger than this may be an upload still being written: the tidy-up leaves it. */
const IN_FLIGHT_MS = 10 * 60_000;

export interface NodeQuotaView {
  limits: QuotaLimits;
  /** Which limits are the node's own rather than the defaults. */
  custom: { bytes: boolean; objects: boolean; requestsPerMinute: boolean };
  used: { bytes: number; objects: number };
}

export function nodeQuota(nodeId: string): NodeQuotaView {
  return { ...nodeLimits(nodeId), used: nodeUsage(nodeId) };
}

export function nodeLimits(nodeId: string): Omit<NodeQuotaView, 'used'> {
  const row = db()
    .select({ bytes: nodes.quotaBytes, objects: nodes.quotaObjects, rate: nodes.quotaRequestsPerMinute })
    .from(nodes)
    .where(eq(nodes.id, nodeId))
    .get();
  return {
    limits: {
      bytes: row?.bytes ?? QUOTA_DEFAULTS.bytes,
      objects: row?.objects ?? QUOTA_DEFAULTS.objects,
      requestsPerMinute: row?.rate ?? QUOTA_DEFAULTS.requestsPerMinute,
    },
    custom: { bytes: row?.bytes != null, objects: row?.objects != null, requestsPerMinute: row?.rate != null },
  };
}

function nodeUsage(nodeId: string): { bytes: number; objects: number } {
  const row = db()
    .select({ bytes: sum(nodeObjects.size), objects: count() })
    .from(nodeObjects)
    .where(eq(nodeObjects.nodeId, nodeId))
    .get();
  return { bytes: Number(row?.bytes ?? 0), objects: row?.objects ?? 0 };
}

/** Null for a limit means the default. */
export function setNodeQuota(nodeId: string, limits: { [K in keyof QuotaLimits]: number | null }): void {
  db()
    .update(nodes)
    .set({ quotaBytes: limits.bytes, quotaObjects: limits.objects, quotaRequestsPerMinute: limits.requestsPerMinute })
    .where(eq(nodes.id, nodeId))
    .run();
}

/** The storage API's quota: charges each new object to the node that adds it, in one transaction with the check. */
export const databaseQuota: NodeQuota = {
  reserve(nodeId, name, size) {
    return db().transaction((tx) => {
      if (tx.select({ name: nodeObjects.name }).from(nodeObjects).where(eq(nodeObjects.name, name)).get())
        return { ok: true as const, undo: () => undefined };
      const { limits, used } = nodeQuota(nodeId);
      // The object's kind is the part before its id, whatever repository's path comes first.
      const extra = name.split('/').at(-2) === 'data' ? { bytes: 0, objects: 0 } : METADATA_ALLOWANCE;
      if (used.bytes + size > limits.bytes + extra.bytes)
        return {
          ok: false as const,
          why: `this node has added ${formatBytes(used.bytes)} of its ${formatBytes(limits.bytes)} quota, and ${formatBytes(size)} more (${name.split('/').at(-2)}) would pass it: an admin can raise it on the node's page`,
        };
      if (used.objects + 1 > limits.objects + extra.objects)
        return {
          ok: false as const,
          why: `this node has added ${used.objects} objects, its quota is ${limits.objects}: an admin can raise it on the node's page`,
        };
      const addedAt = Date.now();
      tx.insert(nodeObjects).values({ name, nodeId, size, addedAt }).run();
      return {
        ok: true as const,
        undo: () =>
          void db()
            .delete(nodeObjects)
            .where(and(eq(nodeObjects.name, name), eq(nodeObjects.addedAt, addedAt)))
            .run(),
      };
    });
  },
  forget(name) {
    db().delete(nodeObjects).where(eq(nodeObjects.name, name)).run();
  },
};

/** Drops the records of objects the repository no longer holds (a prune removed or repacked them), of those
 *  recorded before `settledBefore` (a younger one may be an upload still being written). */
export async function forgetGoneObjects(settledBefore = Date.now() - IN_FLIGHT_MS): Promise<number> {
  const { location } = await ensureRepository();
  // Records name objects of a node's or group's repository with its tenant path in front (agent-storage.ts); those
  // without one are of the control plane's repository, where nodes wrote before they had their own.
  const present = new Set<string>();
  for (const { prefix, at } of [
    { prefix: '', at: location },
    ...listTenants().map((t) => ({ prefix: `${t.path}/`, at: t.location })),
  ])
    for (const kind of OBJECT_KINDS)
      for (const o of await controlStorage(at).list(kind)) present.add(`${prefix}${kind}/${o.name}`);
  let gone = 0;
  const settled = db()
    .select({ name: nodeObjects.name })
    .from(nodeObjects)
    .where(lt(nodeObjects.addedAt, settledBefore))
    .all();
  for (const { name } of settled)
    if (!present.has(name)) {
      databaseQuota.forget(name);
      gone++;
    }
  return gone;
}
