// Snapshots only administrators may look into: those of the built-in sources, which hold the control plane's own
// database (password hashes, every node's secret and group key). Everyone else does not see them listed, cannot
// browse or compare them, and is told no more than that there is no such snapshot.
import 'server-only';

import { eq } from 'drizzle-orm';

import { can } from '../auth/roles';
import { db } from '../db/client';
import { snapshots, sources, type Role } from '../db/schema';

function adminOnlySourceKeys(): Set<string> {
  return new Set(
    db()
      .select({ node: sources.node, name: sources.name })
      .from(sources)
      .where(eq(sources.builtIn, true))
      .all()
      .map((s) => `${s.node}:${s.name}`),
  );
}

export function maySeeSource(role: Role, sourceKey: string): boolean {
  return can(role, 'configure') || !adminOnlySourceKeys().has(sourceKey);
}

/** Whether this role may browse or compare the snapshot (by full id); false for one that is not known. */
export function maySeeSnapshot(role: Role, id: string): boolean {
  const row = db().select({ sourceKey: snapshots.sourceKey }).from(snapshots).where(eq(snapshots.id, id)).get();
  return row !== undefined && maySeeSource(role, row.sourceKey);
}
