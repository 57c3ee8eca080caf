// Forget: apply a retention policy to every source's snapshots and delete the manifests it does not keep.
import { EngineError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshot';
import { retainedAmong } from './object-lock';
import { applyRetention, isEmptyPolicy, type RetentionDecision, type RetentionPolicy } from './policy';

export interface ForgetResult {
  groups: { source: string; decision: RetentionDecision<SnapshotRecord> }[];
  removed: string[];
  /** Snapshots the policy (or the ids) would remove that the bucket still retains (object lock): kept, with until
   *  when. */
  retained: { id: string; until: string }[];
  /** Snapshots that could not be read: no policy can judge them, so they stay (repair snapshots). */
  damaged: string[];
}

/** With `ids`, removes exactly those snapshots (ids or unique prefixes) and takes no policy. */
export async function runForget(
  repo: Repository,
  policy: RetentionPolicy,
  options: {
    dryRun?: boolean;
    source?: string;
    /** Only snapshots carrying this tag are judged (restic's --tag). */
    tag?: string;
    /** Snapshots are judged per source and per value of their tag that starts with this prefix (its own group for
     *  those without one), instead of per source alone. */
    groupByTag?: string;
    ids?: string[];
    /** Snapshots (full ids) kept whatever the policy says, and their copies (a copy names its original): the
     *  dashboard holds the last snapshot before a backup that looked like ransomware at work
     *  (lib/control/anomalies.ts). */
    hold?: string[];
  } = {},
): Promise<ForgetResult> {
  const ids = options.ids ?? [];
  if (ids.length > 0 && !isEmptyPolicy(policy))
    throw new EngineError('invalid-argument', 'give snapshot ids or --keep-… rules, not both');
  if (ids.length === 0 && isEmptyPolicy(policy))
    throw new EngineError('invalid-argument', 'give at least one --keep-… rule: forget will not remove every snapshot');
  const lock = await repo.lock({ exclusive: false, operation: 'forget', waitMs: 60_000 });
  try {
    if (ids.length > 0) {
      // Every id is resolved before anything is removed: a typo removes nothing.
      const named = [];
      for (const id of ids) named.push(await repo.resolveSnapshot(id, { source: options.source }));
      const result: ForgetResult = { groups: [], removed: [], retained: [], damaged: [...repo.damaged.keys()] };
      await removeUnlessRetained(repo, [...new Map(named.map((n) => [n.id, n])).keys()], result, options.dryRun);
      return result;
    }
    const bySource = new Map<string, SnapshotRecord[]>();
    for (const s of await repo.listSnapshots()) {
      if (options.source && s.source !== options.source) continue;
      if (options.tag && !s.tags.includes(options.tag)) continue;
      const prefix = options.groupByTag;
      const group = prefix ? `${s.source} ${s.tags.find((t) => t.startsWith(prefix)) ?? ''}`.trimEnd() : s.source;
      bySource.set(group, [...(bySource.get(group) ?? []), s]);
    }
    const result: ForgetResult = { groups: [], removed: [], retained: [], damaged: [...repo.damaged.keys()] };
    const remove: string[] = [];
    const held = new Set(options.hold ?? []);
    for (const [source, snapshots] of bySource) {
      const decision = applyRetention(snapshots, policy);
      // A copy of a held snapshot (in a repository for copies) is held too.
      const isHeld = (r: SnapshotRecord) => held.has(r.id) || (r.original !== undefined && held.has(r.original));
      for (const s of decision.remove.filter(isHeld)) decision.keep.push({ snapshot: s, reasons: ['held'] });
      decision.remove = decision.remove.filter((r) => !isHeld(r));
      result.groups.push({ source, decision });
      remove.push(...decision.remove.map((s) => s.id));
    }
    await removeUnlessRetained(repo, remove, result, options.dryRun);
    return result;
  } finally {
    await lock.release();
  }
}

/** Removes the snapshots, but those the bucket still retains (object lock), which are kept and listed. */
async function removeUnlessRetained(
  repo: Repository,
  ids: string[],
  result: ForgetResult,
  dryRun = false,
): Promise<void> {
  const retained = await retainedAmong(
    repo.storage,
    ids.map((id) => `snapshots/${id}`),
  );
  for (const id of ids) {
    const until = retained.get(`snapshots/${id}`);
    if (until !== undefined) {
      result.retained.push({ id, until: new Date(until).toISOString() });
      continue;
    }
    if (!dryRun) await repo.storage.delete(`snapshots/${id}`);
    result.removed.push(id);
  }
}
