// What a node reports of a backup it ran is a claim, not a fact: the snapshot it names is read from the repository
// and must be of the source the job was for and carry the job's own tag. The dashboard records what the repository
// says, so a node cannot credit another source with a backup, or pass off an old snapshot as this job's.
import 'server-only';

import { eq } from 'drizzle-orm';

import { isEngineError } from '../engine/errors';
import { tenantPath } from '../engine/nodes/tenants';
import type { SnapshotRecord } from '../engine/repository/snapshot';
import { db } from '../db/client';
import { nodes } from '../db/schema';
import { nodeRepository } from './agent-storage';

export async function checkNodeSnapshot(
  reportedId: unknown,
  expected: { node: string; source: string; tag: string; since: number | null },
): Promise<{ ok: true; snapshot: SnapshotRecord; repository: string } | { ok: false; error: string }> {
  const id = String(reportedId);
  if (!/^[0-9a-f]{64}$/.test(id)) return { ok: false, error: 'the node reported no valid snapshot id' };
  const node = db().select({ id: nodes.id }).from(nodes).where(eq(nodes.name, expected.node)).get();
  if (!node) return { ok: false, error: `node ${expected.node} is no longer registered` };
  let snapshot: SnapshotRecord;
  try {
    snapshot = await (await nodeRepository(node.id)).readSnapshot(id);
  } catch (err) {
    if (isEngineError(err, 'not-found') || isEngineError(err, 'corrupt'))
      return {
        ok: false,
        error: `the node reported snapshot ${id.slice(0, 8)}, which the node's repository does not hold`,
      };
    throw err;
  }
  if (snapshot.source !== expected.source)
    return {
      ok: false,
      error: `the node reported snapshot ${id.slice(0, 8)}, which is of ${snapshot.source}, not ${expected.source}`,
    };
  // Clocks may differ by the signed requests' window; an older snapshot is not this job's.
  const startedEarlier = expected.since !== null && Date.parse(snapshot.time) < expected.since - 60_000;
  if (!snapshot.tags.includes(expected.tag) || startedEarlier)
    return { ok: false, error: `the node reported snapshot ${id.slice(0, 8)}, which another job wrote` };
  return { ok: true, snapshot, repository: tenantPath({ kind: 'node', nodeId: node.id }) };
}
