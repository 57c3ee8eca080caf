// Moving a repository from before per-node repositories (tenants.ts) to them, once, in the background after start:
// every node key was a key to the control plane's own repository, and every node's backups and every group's
// shipped data were in it. Each node gets its repository (with a key its secret opens, so its agent needs no new
// config), its snapshots are copied there with their data (`lifeline copy`: every blob read, checked and sealed
// again), each group's shipped snapshots likewise; only then are the old node keys removed from the control
// plane's repository and the originals forgotten and pruned. Each step can be run again after a crash: a copy
// skips what is there, and the old key ids are kept in a setting until they are gone.
//
// A node registered before this saw the control plane's master key. Its key is gone and the storage API no
// longer serves it that repository, but what it may have kept of the key is not taken back (docs/security.md).
import 'server-only';

import { eq } from 'drizzle-orm';

import { groupRepositoryPassword, nodeRepositoryPassword } from '../engine/nodes/tenants';
import { db } from '../db/client';
import { failoverGroups, nodeEvents, nodes } from '../db/schema';
import { ensureRepository } from './repository';
import { runCli } from './run-cli';
import { getSetting, setSetting } from './settings';
import { refreshSnapshots } from './snapshot-cache';
import { ensureTenant, groupRepositoryLocation, listKeys, nodeRepositoryLocation } from './tenants';

const DONE = 'repository.perNode';
const LEGACY_KEYS = 'repository.legacyNodeKeys';

interface Listed {
  id: string;
  source: string;
}

export async function migrateToNodeRepositories(): Promise<void> {
  if (getSetting(DONE) === 'done') return;
  const repo = await ensureRepository();
  // The old keys to remove: node keys that are keys of the control plane's repository, recorded before any node
  // row is changed (a node registered since has its key in its own repository).
  const legacy: Record<string, string> = JSON.parse(getSetting(LEGACY_KEYS) ?? '{}');
  const mainKeys = new Set((await listKeys(repo.location)).map((k) => k.id));
  const rows = db().select().from(nodes).all();
  for (const node of rows)
    if (node.repositoryKeyId && mainKeys.has(node.repositoryKeyId) && !(node.id in legacy))
      legacy[node.id] = node.repositoryKeyId;
  setSetting(LEGACY_KEYS, JSON.stringify(legacy));

  const listed = await runCli(['snapshots', '--repo', repo.location], repo.passwordFile).done;
  if (listed.code !== 0 || !listed.result)
    throw new Error(`could not list the repository's snapshots: ${String(listed.error?.message ?? listed.code)}`);
  const all = listed.result.snapshots as Listed[];
  const moved: string[] = [];
  const copy = async (ids: string[], to: string) => {
    if (ids.length === 0) return;
    const args = ['copy', '--from-repo', repo.location, '--from-password-file', repo.passwordFile, '--repo', to];
    const { code, error } = await runCli([...args, ...ids], repo.passwordFile).done;
    if (code !== 0) throw new Error(`could not copy snapshots into ${to}: ${String(error?.message ?? code)}`);
    moved.push(...ids);
  };

  for (const node of rows) {
    const { keyId } = await ensureTenant({ kind: 'node', nodeId: node.id }, nodeRepositoryPassword(node.secret));
    if (node.id in legacy) db().update(nodes).set({ repositoryKeyId: keyId }).where(eq(nodes.id, node.id)).run();
    const own = all.filter((s) => s.source.startsWith(`${node.name}:`)).map((s) => s.id);
    await copy(own, nodeRepositoryLocation(node.id));
    db()
      .insert(nodeEvents)
      .values({
        nodeId: node.id,
        at: Date.now(),
        kind: 'repository-moved',
        detail: `${own.length} snapshots moved into the node's own repository`,
      })
      .run();
  }
  for (const group of db().select().from(failoverGroups).all()) {
    await ensureTenant({ kind: 'group', groupId: group.id }, groupRepositoryPassword(group.groupKey));
    const shipped = all.filter((s) => s.source === `ship:${group.id}`).map((s) => s.id);
    await copy(shipped, groupRepositoryLocation(group.id));
  }

  // Everything is in its new place: the old keys go, then the originals.
  for (const [nodeId, keyId] of Object.entries(legacy)) {
    const { code, error } = await runCli(['key', 'remove', keyId, '--repo', repo.location], repo.passwordFile).done;
    // A key removed by an earlier run that stopped before recording it is not there any more.
    if (code !== 0 && !/no key/i.test(String(error?.message)))
      throw new Error(`could not remove node ${nodeId}'s key from the repository: ${String(error?.message ?? code)}`);
    delete legacy[nodeId];
    setSetting(LEGACY_KEYS, JSON.stringify(legacy));
  }
  if (moved.length > 0) {
    const forget = ['forget', '--repo', repo.location, '--prune', ...moved];
    const { code, error } = await runCli(forget, repo.passwordFile).done;
    if (code !== 0) throw new Error(`could not remove the moved snapshots: ${String(error?.message ?? code)}`);
  }
  setSetting(DONE, 'done');
  await refreshSnapshots(repo);
}
