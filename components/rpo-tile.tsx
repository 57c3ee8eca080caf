import { formatAge } from '@/lib/format';

const STYLE = {
  ok: { box: 'border-success/40 bg-success/10', text: 'Within target' },
  warning: { box: 'border-warning/40 bg-warning/10', text: 'Past 80 % of target' },
  breached: { box: 'border-destructive/40 bg-destructive/10', text: 'Past target' },
  none: { box: 'border-border bg-muted', text: 'No backup yet' },
} as const;

/** A source's backup RPO: the age of its newest good snapshot against its target. */
export function RpoTile({
  name,
  ageMs,
  targetMinutes,
  status,
  nextRunAt,
  lastRtoMs,
  copies = [],
  offMachine = true,
}: {
  name: string;
  ageMs: number | null;
  targetMinutes: number;
  status: keyof typeof STYLE;
  nextRunAt: number | null;
  lastRtoMs?: number;
  /** The source's RPO in each repository for copies. */
  copies?: { repository: string; offMachine: boolean; ageMs: number | null; status: keyof typeof STYLE }[];
  /** Whether any copy of it is off the dashboard's machine. */
  offMachine?: boolean;
}) {
  const style = STYLE[status];
  return (
    <article aria-label={`RPO of ${name}`} data-status={status} className={`rounded-lg border p-4 ${style.box}`}>
      <h3 className="font-medium">{name}</h3>
      <p className="mt-1 text-2xl font-semibold">{ageMs === null ? '—' : formatAge(ageMs)}</p>
      <p className="text-sm">
        {style.text} ({targetMinutes} min)
      </p>
      <p className="mt-1 text-xs text-muted-foreground">
        {nextRunAt ? `Next run ${new Date(nextRunAt).toLocaleString()}` : 'On demand'}
      </p>
      <p className="text-xs text-muted-foreground">
        {lastRtoMs === undefined ? 'No restore measured yet' : `Last restore took ${(lastRtoMs / 1000).toFixed(1)} s`}
      </p>
      {copies.length > 0 ? (
        <ul aria-label={`Copies of ${name}`} className="mt-2 border-t border-border pt-2 text-xs">
          {copies.map((c) => (
            <li key={c.repository} data-status={c.status}>
              Copy in {c.repository}
              {c.offMachine ? ' (off this machine)' : ''}: {c.ageMs === null ? 'none yet' : formatAge(c.ageMs)}
              {c.status === 'breached' || c.status === 'warning' ? ` · ${STYLE[c.status].text.toLowerCase()}` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      {offMachine ? null : <p className="mt-2 text-xs font-medium text-warning-text">No copy off this machine</p>}
    </article>
  );
}
