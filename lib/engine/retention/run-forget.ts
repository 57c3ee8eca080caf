// Forget: apply a retention policy to every source's snapshots and delete the manifests it does not keep.
import { EngineError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import { applyRetention, isEmptyPolicy, type RetentionDecision, type RetentionPolicy } from './policy';

export interface ForgetResult {
  groups: { source: string; decision: RetentionDecision<SnapshotRecord> }[];
  removed: string[];
}

export async function runForget(
  repo: Repository,
  policy: RetentionPolicy,
  options: { dryRun?: boolean; source?: string } = {},
): Promise<ForgetResult> {
  if (isEmptyPolicy(policy))
    throw new EngineError('invalid-argument', 'give at least one --keep-… rule: forget will not remove every snapshot');
  const lock = await repo.lock({ exclusive: false, operation: 'forget', waitMs: 60_000 });
  try {
    const bySource = new Map<string, SnapshotRecord[]>();
    for (const s of await repo.listSnapshots()) {
      if (options.source && s.source !== options.source) continue;
      bySource.set(s.source, [...(bySource.get(s.source) ?? []), s]);
    }
    const result: ForgetResult = { groups: [], removed: [] };
    for (const [source, snapshots] of bySource) {
      const decision = applyRetention(snapshots, policy);
      result.groups.push({ source, decision });
      for (const s of decision.remove) {
        if (!options.dryRun) await repo.storage.delete(`snapshots/${s.id}`);
        result.removed.push(s.id);
      }
    }
    return result;
  } finally {
    await lock.release();
  }
}
