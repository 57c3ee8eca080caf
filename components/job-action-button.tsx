'use client';

// A one-button form that queues jobs ("Back up now", "Back up plan now"), whose word then follows the jobs to their
// end through the live events: queued, running, then done or failed with the job's error. It never says
// "queued" of a job that has ended.
import Link from 'next/link';
import { useActionState, useState } from 'react';
import { useFormStatus } from 'react-dom';

import { Button } from '@/components/ui/button';
import type { ActionState } from '@/lib/auth/action';

import { useControlEvents } from './use-control-events';

type State = ActionState<{ jobIds: number[] }>;

const SAID: Record<string, string> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

function Submit({ label }: { label: string }) {
  const { pending } = useFormStatus();
  return (
    <Button type="submit" disabled={pending}>
      {label}
    </Button>
  );
}

/** What the jobs came to, in a few words ("Backup job 4 running.", "2 backup jobs: 1 done, 1 failed."). */
function word(
  ids: number[],
  statuses: Map<number, { status: string; error: string | null }>,
  noun: string,
): string | null {
  if (ids.length === 0 || ids.every((id) => !statuses.has(id))) return null;
  if (ids.length === 1) {
    const s = statuses.get(ids[0])!;
    return `${noun[0].toUpperCase()}${noun.slice(1)} job ${ids[0]} ${SAID[s.status] ?? s.status}${s.status === 'failed' && s.error ? `: ${s.error}` : ''}.`;
  }
  const counts = new Map<string, number>();
  for (const id of ids) {
    const status = SAID[statuses.get(id)?.status ?? 'queued'] ?? 'queued';
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return `${ids.length} ${noun} jobs: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}.`;
}

export function JobActionButton({
  action,
  fields,
  label,
  noun = 'backup',
}: {
  action: (state: State, form: FormData) => Promise<State>;
  fields: Record<string, string | number>;
  label: string;
  /** What the jobs are, as the word names them: "backup" (Backup job 4 done.). */
  noun?: string;
}) {
  const [state, formAction] = useActionState(action, null);
  const [statuses, setStatuses] = useState(new Map<number, { status: string; error: string | null }>());
  const ids = state?.ok ? state.data.jobIds : [];
  // Every job's word since the page opened (a job may end before the action's answer names it), the newest few.
  useControlEvents((event) => {
    const jobs = event.type === 'hello' ? event.jobs : event.type === 'job' ? [event.job] : [];
    if (jobs.length > 0)
      setStatuses((prev) => {
        const next = new Map(prev);
        for (const j of jobs) next.set(j.id, { status: j.status, error: j.error });
        return next.size > 200 ? new Map([...next].slice(-100)) : next;
      });
  });
  const live = state?.ok ? word(ids, statuses, noun) : null;
  return (
    <form action={formAction} className="inline-flex flex-wrap items-center justify-end gap-2">
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <Submit label={label} />
      {state && !state.ok ? (
        <span role="alert" className="text-sm text-destructive-text">
          {state.error}
        </span>
      ) : state?.ok ? (
        <>
          <span role="status" className="text-sm text-muted-foreground">
            {live ?? state.message}
          </span>
          {ids.length === 1 ? (
            <Link href={`/jobs/${ids[0]}`} className="text-sm text-link underline underline-offset-2">
              Job {ids[0]}
            </Link>
          ) : null}
        </>
      ) : null}
    </form>
  );
}
