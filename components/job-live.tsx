'use client';

// A job's page, the part that moves: its status and progress as the job runs, and its log as it is written (its
// steps, the engine's phases, its warnings), from the control plane's event stream.
import { useRouter } from 'next/navigation';
import { useMemo, useState } from 'react';

import { ActionButton } from './action-button';
import { JobProgress } from './job-progress';
import { LocalTime } from './time';
import { DataTable } from './ui/data-table';
import { useControlEvents, type LiveJob, type LiveJobLogEntry } from './use-control-events';

const ACTIVE = new Set(['queued', 'running']);

export function JobLive({
  job: rendered,
  log: renderedLog,
  cancelAction,
}: {
  job: LiveJob & { startedAt: number | null; endedAt: number | null };
  /** Null: the role may not read this job's log. */
  log: LiveJobLogEntry[] | null;
  cancelAction?: Parameters<typeof ActionButton>[0]['action'];
}) {
  const router = useRouter();
  const [live, setLive] = useState<LiveJob | null>(null);
  const [arrived, setArrived] = useState<LiveJobLogEntry[]>([]);
  useControlEvents((event) => {
    // Lines written while the stream was not yet (or no longer) open are read again with the page.
    if (event.type === 'hello' && ACTIVE.has((live ?? rendered).status)) router.refresh();
    if (event.type === 'job' && event.job.id === rendered.id) setLive(event.job);
    if (event.type === 'job-log' && event.entry.jobId === rendered.id) setArrived((old) => [...old, event.entry]);
  });
  // The page's own render is the newer once it has the job ended; until then the stream's.
  const job = live && ACTIVE.has(rendered.status) ? { ...rendered, ...live } : rendered;
  const log = useMemo(() => {
    if (renderedLog === null) return null;
    const seen = new Set(renderedLog.map((e) => e.id));
    return [...renderedLog, ...arrived.filter((e) => !seen.has(e.id))].sort((a, b) => a.id - b.id);
  }, [renderedLog, arrived]);
  const active = ACTIVE.has(job.status);
  const steps = log?.filter((e) => e.kind === 'step') ?? [];
  const warnings = log?.filter((e) => e.kind === 'warning' && e.path !== null) ?? [];
  const endedAt = rendered.endedAt;
  return (
    <>
      <section aria-label="Progress" className="mt-4 rounded-lg border border-border bg-card p-4">
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <span>Status:</span>
          <span role="status" className="rounded bg-muted px-2 py-0.5 font-medium">
            {job.status}
          </span>
          {active && cancelAction ? (
            <span className="ml-auto">
              <ActionButton action={cancelAction} fields={{ jobId: job.id }} label="Cancel" tone="danger" />
            </span>
          ) : null}
        </div>
        {job.status === 'running' ? <JobProgress job={job} /> : null}
        {job.error ? (
          <p className={`mt-2 text-sm ${job.status === 'succeeded' ? 'text-warning-text' : 'text-destructive-text'}`}>
            {job.error}
          </p>
        ) : null}
      </section>
      {log === null ? (
        <p className="mt-6 text-sm text-muted-foreground">
          The log of a restore names where it writes: operators and admins may read it.
        </p>
      ) : (
        <>
          <section aria-labelledby="job-steps" className="mt-6">
            <h2 id="job-steps" className="text-lg font-medium">
              Steps
            </h2>
            {steps.length === 0 ? (
              <p className="mt-1 text-sm text-muted-foreground">{active ? 'Waiting to start.' : 'None recorded.'}</p>
            ) : (
              <ol aria-label="Steps" className="mt-2 space-y-1 text-sm">
                {steps.map((step, i) => {
                  const next = steps[i + 1]?.at ?? (active ? null : endedAt);
                  const state = i < steps.length - 1 ? 'done' : active ? 'under way' : job.status;
                  return (
                    <li key={step.id} className="flex flex-wrap gap-x-3">
                      <span>{step.message}</span>
                      <span className="text-muted-foreground">
                        {state}
                        {next !== null ? ` · ${((next - step.at) / 1000).toFixed(1)} s` : ''}
                      </span>
                    </li>
                  );
                })}
              </ol>
            )}
          </section>
          <section aria-labelledby="job-warnings" className="mt-6">
            <h2 id="job-warnings" className="text-lg font-medium">
              Warnings and skipped files ({warnings.length})
            </h2>
            {warnings.length === 0 ? (
              <p className="mt-1 text-sm text-muted-foreground">None.</p>
            ) : (
              <DataTable
                label="Warnings"
                className="mt-2"
                columns={[{ header: 'Path', sortable: true }, { header: 'Warning' }]}
                rows={warnings.map((w) => ({
                  key: String(w.id),
                  cells: [
                    <span key="path" className="font-mono text-xs break-all">
                      {w.path}
                    </span>,
                    w.message,
                  ],
                  sort: [w.path, null],
                }))}
              />
            )}
          </section>
          <section aria-labelledby="job-log" className="mt-6">
            <h2 id="job-log" className="text-lg font-medium">
              Log
            </h2>
            <div
              role="log"
              aria-labelledby="job-log"
              className="mt-2 rounded-md border border-border bg-muted/40 p-3 font-mono text-xs break-words"
            >
              <ol>
                {log.map((e) => (
                  <li
                    key={e.id}
                    className={
                      e.kind === 'error'
                        ? 'text-destructive-text'
                        : e.kind === 'warning'
                          ? 'text-warning-text'
                          : e.kind === 'step'
                            ? 'font-semibold'
                            : undefined
                    }
                  >
                    <LocalTime at={e.at} only="time" /> {e.kind === 'phase' ? '· ' : ''}
                    {e.path ? `${e.path}: ` : ''}
                    {e.message}
                  </li>
                ))}
              </ol>
            </div>
          </section>
        </>
      )}
    </>
  );
}
