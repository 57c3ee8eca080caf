import { formatBytes, formatDuration } from '@/lib/format';

import type { LiveJob } from './use-control-events';

/** A running job's progress: a bar, what is done of what, the rate, and the time left at that rate. */
export function JobProgress({ job }: { job: LiveJob }) {
  const fraction = job.bytesTotal > 0 ? Math.min(job.bytesDone / job.bytesTotal, 1) : 0;
  return (
    <>
      <div
        role="progressbar"
        aria-label={`Progress of job ${job.id}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
        className="mt-2 h-2 rounded bg-muted"
      >
        <div className="h-2 rounded bg-primary" style={{ width: `${fraction * 100}%` }} />
      </div>
      <p className="mt-1 text-xs text-muted-foreground">
        {formatBytes(job.bytesDone)} of {formatBytes(job.bytesTotal)} · {job.filesDone} of {job.filesTotal} files
        {job.rate ? ` · ${formatBytes(job.rate)}/s` : ''}
        {job.etaSeconds != null ? ` · ${formatDuration(job.etaSeconds)} left` : ''}
      </p>
    </>
  );
}
