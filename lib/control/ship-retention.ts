// Warm-standby shipping writes a snapshot every few seconds. Only the newest few are restore points a standby
// may still need; the rest are forgotten every minute and their data pruned every half hour, so shipping
// neither floods the snapshot list nor grows the repository.
import 'server-only';

import { existsSync } from 'node:fs';
import path from 'node:path';

import { shipSourceKey } from '../engine/nodes/agent-protocol';
import { repositoryInfo } from './repository';
import { runCli } from './run-cli';
import { groupRepositoryLocation } from './tenants';

/** Shipped snapshots kept per group: the newest, by time. */
export const SHIPS_KEPT = 3;
const PRUNE_EVERY = 30;
const rounds = new Map<string, number>();

export async function trimShippedSnapshots(groupId: string): Promise<void> {
  const repo = repositoryInfo();
  // The group's repository is made on its primary's first ship.
  if (!repo || !existsSync(path.join(groupRepositoryLocation(groupId), 'config'))) return;
  const round = (rounds.get(groupId) ?? 0) + 1;
  rounds.set(groupId, round);
  const args = [
    'forget',
    '--repo',
    groupRepositoryLocation(groupId),
    '--source',
    shipSourceKey(groupId),
    '--keep-last',
    String(SHIPS_KEPT),
  ];
  if (round % PRUNE_EVERY === 0) args.push('--prune');
  const { code, error } = await runCli(args, repo.passwordFile).done;
  if (code !== 0)
    console.error(`could not trim the shipped snapshots of ${groupId}: ${String(error?.message ?? code)}`);
}
