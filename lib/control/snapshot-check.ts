// What a node may add as a snapshot: to its own repository, a backup of one of its own sources (<node>:<source>);
// to a group's, while it is the group's primary (on etcd: while it holds the leader key), the group's shipped data
// tagged with its current epoch (on etcd: made from the key's token). Its time
// may not lie in the future. Anything else is refused before it is stored.
import 'server-only';

import { eq } from 'drizzle-orm';

import type { Repository } from '../engine/repository/repository';
import { shipSourceKey } from '../engine/nodes/agent-protocol';
import type { SnapshotCheck } from '../engine/nodes/append-only-access';
import type { Tenant } from '../engine/nodes/tenants';
import { db } from '../db/client';
import { failoverGroups, nodes } from '../db/schema';
import { etcdLeader } from './etcd';

const FUTURE_SLACK_MS = 5 * 60_000;

export function snapshotCheck(repository: () => Promise<Repository>, tenant: Tenant): SnapshotCheck {
  return async (nodeId, id, sealed) => {
    const repo = await repository();
    let snapshot;
    try {
      snapshot = repo.decodeSnapshot(id, sealed);
    } catch {
      return 'this is not a snapshot sealed with the repository’s key';
    }
    const node = db().select().from(nodes).where(eq(nodes.id, nodeId)).get();
    if (!node) return 'unknown node';
    if (Date.parse(snapshot.time) > Date.now() + FUTURE_SLACK_MS)
      return `the snapshot's time ${snapshot.time} lies in the future`;
    const refused = `node ${node.name} may not write snapshots of ${snapshot.source}`;
    if (tenant.kind === 'group') {
      const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, tenant.groupId)).get();
      if (!group || snapshot.source !== shipSourceKey(group.id)) return refused;
      // On etcd the primary is whoever holds the leader key, and the key's token is the epoch its data carries.
      const primary =
        group.coordination === 'etcd'
          ? await etcdLeader(group.id).catch(() => null)
          : { nodeId: group.primaryNodeId, epoch: group.epoch };
      const current = primary?.nodeId === nodeId && snapshot.tags.includes(`epoch:${primary.epoch}`);
      return current ? null : refused;
    }
    // Node names cannot be "ship" or "local" (RESERVED_NODE_NAMES): no shipped data or dashboard source here.
    return snapshot.source.startsWith(`${node.name}:`) ? null : refused;
  };
}
