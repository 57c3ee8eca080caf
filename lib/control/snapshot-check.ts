// What a node may add to the repository as a snapshot: a backup of one of its own sources (<node>:<source>), or,
// while it is a group's primary, that group's shipped data tagged with the group's current epoch. Its time may
// not lie in the future. Anything else is refused before it is stored.
import 'server-only';

import { eq } from 'drizzle-orm';

import type { Repository } from '../engine/repository/repository';
import { shipSourceKey } from '../engine/nodes/agent-protocol';
import type { SnapshotCheck } from '../engine/nodes/append-only-access';
import { db } from '../db/client';
import { failoverGroups, nodes } from '../db/schema';

const FUTURE_SLACK_MS = 5 * 60_000;

export function snapshotCheck(repository: () => Promise<Repository>): SnapshotCheck {
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
    // Shipped data first, whatever the node is called (node names cannot be "ship" or "local", see RESERVED_NODE_NAMES).
    if (snapshot.source.startsWith('ship:')) {
      const group = db()
        .select()
        .from(failoverGroups)
        .where(eq(failoverGroups.id, snapshot.source.slice(shipSourceKey('').length)))
        .get();
      return group && group.primaryNodeId === nodeId && snapshot.tags.includes(`epoch:${group.epoch}`) ? null : refused;
    }
    return snapshot.source.startsWith(`${node.name}:`) ? null : refused;
  };
}
