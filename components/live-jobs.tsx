'use client';

import Link from 'next/link';
import { useState } from 'react';

import { ActionButton } from './action-button';
import { JobProgress } from './job-progress';
import { useControlEvents, type LiveJob } from './use-control-events';

const ACTIVE = new Set(['queued', 'running']);

/** Jobs in progress with live progress (the page's RefreshOnEvents re-renders its server data as they end). */
export function LiveJobs({
  initial,
  sourceNames,
  cancelAction,
}: {
  initial: LiveJob[];
  sourceNames: Record<number, string>;
  cancelAction?: Parameters<typeof ActionButton>[0]['action'];
}) {
  const [jobs, setJobs] = useState<Map<number, LiveJob>>(() => new Map(initial.map((j) => [j.id, j])));
  useControlEvents((event) => {
    if (event.type === 'hello') setJobs(new Map(event.jobs.map((j) => [j.id, j])));
    if (event.type === 'job') {
      setJobs((old) => {
        const next = new Map(old);
        if (ACTIVE.has(event.job.status)) next.set(event.job.id, { ...old.get(event.job.id), ...event.job });
        else next.delete(event.job.id);
        return next;
      });
    }
  });
  const list = [...jobs.values()];
  return (
    <section aria-labelledby="running-jobs" className="mt-8">
      <h2 id="running-jobs" className="text-lg font-medium">
        Running jobs
      </h2>
      {list.length === 0 ? (
        <p className="mt-2 text-sm text-muted-foreground">No job is running.</p>
      ) : (
        <ul className="mt-3 space-y-3">
          {list.map((job) => {
            const name = job.sourceId ? (sourceNames[job.sourceId] ?? `source ${job.sourceId}`) : job.kind;
            return (
              <li
                key={job.id}
                aria-label={`Job ${job.id}: ${job.kind} of ${name}`}
                className="rounded-lg border border-border bg-card p-4"
              >
                <div className="flex items-center gap-3 text-sm">
                  <Link href={`/jobs/${job.id}`} className="font-medium text-link underline underline-offset-2">
                    {job.kind === 'backup' ? 'Backing up' : job.kind} {name}
                  </Link>
                  <span className="rounded bg-muted px-2 py-0.5 text-xs">{job.status}</span>
                  {cancelAction ? (
                    <span className="ml-auto">
                      <ActionButton action={cancelAction} fields={{ jobId: job.id }} label="Cancel" tone="danger" />
                    </span>
                  ) : null}
                </div>
                <JobProgress job={job} />
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
