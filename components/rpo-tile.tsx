import { formatAge } from '@/lib/format';

const STYLE = {
  ok: { box: 'border-green-300 bg-green-50', text: 'Within target' },
  warning: { box: 'border-amber-300 bg-amber-50', text: 'Past 80 % of target' },
  breached: { box: 'border-red-300 bg-red-50', text: 'Past target' },
  none: { box: 'border-slate-300 bg-slate-50', text: 'No backup yet' },
} as const;

/** A source's backup RPO: the age of its newest good snapshot against its target. */
export function RpoTile({
  name,
  ageMs,
  targetMinutes,
  status,
  nextRunAt,
  lastRtoMs,
}: {
  name: string;
  ageMs: number | null;
  targetMinutes: number;
  status: keyof typeof STYLE;
  nextRunAt: number | null;
  lastRtoMs?: number;
}) {
  const style = STYLE[status];
  return (
    <article aria-label={`RPO of ${name}`} data-status={status} className={`rounded-lg border p-4 ${style.box}`}>
      <h3 className="font-medium">{name}</h3>
      <p className="mt-1 text-2xl font-semibold">{ageMs === null ? '—' : formatAge(ageMs)}</p>
      <p className="text-sm">
        {style.text} ({targetMinutes} min)
      </p>
      <p className="mt-1 text-xs text-slate-600">
        {nextRunAt ? `Next run ${new Date(nextRunAt).toLocaleString()}` : 'On demand'}
      </p>
      <p className="text-xs text-slate-600">
        {lastRtoMs === undefined ? 'No restore measured yet' : `Last restore took ${(lastRtoMs / 1000).toFixed(1)} s`}
      </p>
    </article>
  );
}
