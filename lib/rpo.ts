// Backup RPO status, as DESIGN.md defines it: the age of the newest good snapshot against the source's target.

export type RpoStatus = 'ok' | 'warning' | 'breached' | 'none';

/** Green within the target, amber past 80 % of it, red past it; none before the first good snapshot. */
export function rpoStatus(ageMs: number | null, targetMinutes: number): RpoStatus {
  if (ageMs === null) return 'none';
  const target = targetMinutes * 60_000;
  if (ageMs > target) return 'breached';
  if (ageMs > 0.8 * target) return 'warning';
  return 'ok';
}
