// Retention: which snapshots a keep-policy keeps, per source, with the reasons, as restic's forget decides:
// each rule keeps the newest snapshot of each of the last N periods (hours, days, …) that have one.

export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

export const RETENTION_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
type Rule = (typeof RETENTION_RULES)[number];

export interface Dated {
  id: string;
  time: string;
}

/** Why a snapshot is kept: a rule of the policy, or `held` (named to be kept whatever the policy says). */
export type KeepReason = Rule | 'held';

export interface RetentionDecision<T extends Dated> {
  keep: { snapshot: T; reasons: KeepReason[] }[];
  remove: T[];
}

export function isEmptyPolicy(policy: RetentionPolicy): boolean {
  return RETENTION_RULES.every((r) => !policy[r]);
}

const bucketOf: Record<Rule, (d: Date, id: string) => string> = {
  last: (_d, id) => id,
  hourly: (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}-${d.getHours()}`,
  daily: (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`,
  weekly: (d) => isoWeek(d),
  monthly: (d) => `${d.getFullYear()}-${d.getMonth()}`,
  yearly: (d) => `${d.getFullYear()}`,
};

/** Applies a policy to the snapshots of one source. */
export function applyRetention<T extends Dated>(
  snapshots: readonly T[],
  policy: RetentionPolicy,
): RetentionDecision<T> {
  const newestFirst = [...snapshots].sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
  const left: Record<Rule, number> = Object.fromEntries(RETENTION_RULES.map((r) => [r, policy[r] ?? 0])) as Record<
    Rule,
    number
  >;
  const lastBucket: Partial<Record<Rule, string>> = {};
  const decision: RetentionDecision<T> = { keep: [], remove: [] };
  for (const snapshot of newestFirst) {
    const date = new Date(snapshot.time);
    const reasons: KeepReason[] = [];
    for (const rule of RETENTION_RULES) {
      if (left[rule] <= 0) continue;
      const bucket = bucketOf[rule](date, snapshot.id);
      if (bucket === lastBucket[rule]) continue;
      lastBucket[rule] = bucket;
      left[rule]--;
      reasons.push(rule);
    }
    if (reasons.length > 0) decision.keep.push({ snapshot, reasons });
    else decision.remove.push(snapshot);
  }
  return decision;
}

function isoWeek(d: Date): string {
  const day = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const weekday = (day.getDay() + 6) % 7;
  day.setDate(day.getDate() - weekday + 3);
  const firstThursday = new Date(day.getFullYear(), 0, 4);
  const week =
    1 +
    Math.round(((day.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getDay() + 6) % 7)) / 7);
  return `${day.getFullYear()}-W${week}`;
}
