// Warm-standby shipping writes a snapshot every few seconds. Only the newest few are restore points a standby
// may still need; the rest are forgotten every minute and their data pruned every half hour, so shipping
// neither floods the snapshot list nor grows the repository. Log replication's bases (tag "base", one per
// database and generation) are trimmed apart from them: the newest two of each database are kept, the newest
// being the one a new standby starts from.
import 'server-only';

import { existsSync } from 'node:fs';
import path from 'node:path';

import { BASE_DB_TAG_PREFIX, BASE_TAG, SHIP_TAG, shipSourceKey } from '../engine/nodes/agent-protocol';
import { repositoryInfo } from './repository';
import { runCli } from './run-cli';
import { groupRepositoryLocation } from './tenants';

/** Shipped snapshots kept per group: the newest, by time. */
export const SHIPS_KEPT = 3;
/** Bases kept per database: the current generation's, and the one before it (a standby may be installing it). */
export const BASES_KEPT = 2;
const PRUNE_EVERY = 30;
const rounds = new Map<string, number>();

export async function trimShippedSnapshots(groupId: string): Promise<void> {
  const repo = repositoryInfo();
  // The group's repository is made on its primary's first ship.
  if (!repo || !existsSync(path.join(groupRepositoryLocation(groupId), 'config'))) return;
  const round = (rounds.get(groupId) ?? 0) + 1;
  rounds.set(groupId, round);
  const forget = ['forget', '--repo', groupRepositoryLocation(groupId), '--source', shipSourceKey(groupId)];
  const bases = [...forget, '--tag', BASE_TAG, '--group-by-tag', BASE_DB_TAG_PREFIX, '--keep-last', String(BASES_KEPT)];
  const ships = [...forget, '--tag', SHIP_TAG, '--keep-last', String(SHIPS_KEPT)];
  // The prune, if this round has one, runs once both have forgotten theirs.
  if (round % PRUNE_EVERY === 0) ships.push('--prune');
  for (const args of [bases, ships]) {
    const { code, error } = await runCli(args, repo.passwordFile).done;
    if (code !== 0)
      console.error(`could not trim the shipped snapshots of ${groupId}: ${String(error?.message ?? code)}`);
  }
}
