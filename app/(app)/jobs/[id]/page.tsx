import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';

import { can } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';
import { pageVersion } from '@/lib/control/events';
import { jobPage, parseJobRef, type JobPage } from '@/lib/control/job-page';
import type { RestoreParams } from '@/lib/control/job-queue';
import { formatBytes } from '@/lib/format';
import type { BackupFiguresRow } from '@/lib/db/schema';
import { JobLive } from '@/components/job-live';
import { RefreshOnEvents } from '@/components/refresh-on-events';
import { LocalTime } from '@/components/time';

import { cancel } from '../../backups/actions';

const KIND_NAMES: Record<string, string> = {
  backup: 'Backup',
  restore: 'Restore',
  copy: 'Copy',
  prune: 'Prune',
  verify: 'Verify',
};

function titleOf(page: JobPage): string {
  if (page.kind === 'job') return `${KIND_NAMES[page.job.kind]} of ${page.subject} (job ${page.job.id})`;
  if (page.kind === 'failover')
    return `${page.event.kind === 'start' ? 'Start' : page.event.kind === 'switchover' ? 'Switchover' : 'Failover'} of ${page.group}`;
  return `DR drill of ${page.group}`;
}

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const user = await requireUser();
  const ref = parseJobRef((await params).id);
  const page = ref ? jobPage(ref, user.role) : null;
  return { title: page ? titleOf(page) : 'No such job' };
}

const seconds = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(2)} s`);

/** The page's figures: what the job did and what it cost. */
function Figures({ children }: { children: ReactNode }) {
  return (
    <section aria-label="Figures" className="mt-4">
      <dl className="grid grid-cols-[minmax(8rem,auto)_1fr] gap-x-4 gap-y-1 text-sm">{children}</dl>
    </section>
  );
}

/** A term and what it is, in the page's list of figures. */
function Figure({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-muted-foreground">{term}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </>
  );
}

export default async function JobPageView({ params }: { params: Promise<{ id: string }> }) {
  // Read before the page's data: an event after it makes the stream's version differ (RefreshOnEvents).
  const version = pageVersion();
  const user = await requireUser();
  const ref = parseJobRef((await params).id);
  const page = ref ? jobPage(ref, user.role) : null;
  if (!page) notFound();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <RefreshOnEvents version={version} />
      <h1 className="text-2xl font-semibold">{titleOf(page)}</h1>
      {page.kind === 'job' ? (
        <QueuedJob page={page} mayCancel={can(user.role, 'cancel')} />
      ) : page.kind === 'failover' ? (
        <FailoverJob page={page} />
      ) : (
        <DrillJob page={page} />
      )}
    </main>
  );
}

/** What a backup added, as the repository holds it, and whether it looked like the source's usual ones (17.3). */
function BackupJudgement({ figures }: { figures: BackupFiguresRow }) {
  const compression = figures.compressionRatio === null ? '' : `, compressing ${figures.compressionRatio.toFixed(2)}×`;
  return (
    <>
      <Figure term="Changed content">
        {figures.previousId
          ? `${formatBytes(figures.newRawBytes)} of ${formatBytes(figures.bytes)} (${(figures.newRatio * 100).toFixed(1)} %)${compression}, against snapshot ${figures.previousId.slice(0, 8)}`
          : 'all of it: the first backup of its source'}
      </Figure>
      <Figure term="Looks usual">
        {!figures.flagged ? (
          figures.newRatioScore === null ? (
            'not judged yet: fewer than five earlier backups to compare with'
          ) : (
            'yes'
          )
        ) : (
          <span role="alert" className="font-medium text-destructive-text">
            no: {figures.why}
            {figures.dismissedBy ? ` (dismissed by ${figures.dismissedBy})` : ''}
          </span>
        )}
      </Figure>
    </>
  );
}

function QueuedJob({ page, mayCancel }: { page: Extract<JobPage, { kind: 'job' }>; mayCancel: boolean }) {
  const { job } = page;
  const restore = job.kind === 'restore' && job.params ? (JSON.parse(job.params) as RestoreParams) : null;
  const took = job.startedAt !== null && job.endedAt !== null ? job.endedAt - job.startedAt : null;
  return (
    <>
      <Figures>
        <Figure term="Requested by">{job.requestedBy ?? 'the schedule'}</Figure>
        <Figure term="Queued">
          <LocalTime at={job.createdAt} />
        </Figure>
        {job.startedAt !== null ? (
          <Figure term="Started">
            <LocalTime at={job.startedAt} />
          </Figure>
        ) : null}
        {job.endedAt !== null ? (
          <Figure term="Ended">
            <LocalTime at={job.endedAt} />
          </Figure>
        ) : null}
        {took !== null ? <Figure term="Took">{seconds(took)}</Figure> : null}
        {job.kind === 'backup' || job.kind === 'restore' ? (
          <Figure term="Files">{job.filesDone.toLocaleString('en')}</Figure>
        ) : null}
        {job.kind === 'copy' ? (
          <Figure term="Snapshots copied">
            {job.filesDone} of {job.filesTotal}
          </Figure>
        ) : null}
        {job.kind === 'backup' || job.kind === 'restore' ? (
          <Figure term="Size">{formatBytes(job.bytesDone)}</Figure>
        ) : null}
        {job.kind === 'prune' && job.status === 'succeeded' ? (
          <Figure term="Freed">{formatBytes(job.bytesDone)}</Figure>
        ) : null}
        {job.newBytes !== null ? <Figure term="New data">{formatBytes(job.newBytes)}</Figure> : null}
        {took !== null && took > 0 && job.bytesDone > 0 && (job.kind === 'backup' || job.kind === 'restore') ? (
          <Figure term="Rate">{formatBytes(job.bytesDone / (took / 1000))}/s</Figure>
        ) : null}
        {job.snapshotId ? (
          <Figure term="Snapshot">
            <Link href={`/snapshots/${job.snapshotId}`} className="font-mono text-link underline underline-offset-2">
              {job.snapshotId.slice(0, 8)}
            </Link>
          </Figure>
        ) : null}
        {page.copyTarget ? <Figure term="Copied into">{page.copyTarget}</Figure> : null}
        {page.figures ? <BackupJudgement figures={page.figures} /> : null}
        {restore ? (
          <>
            <Figure term="From snapshot">
              <Link
                href={`/snapshots/${restore.snapshot}`}
                className="font-mono text-link underline underline-offset-2"
              >
                {restore.snapshot.slice(0, 8)}
              </Link>
            </Figure>
            <Figure term="Into">
              {restore.inPlace ? 'its own place' : <span className="font-mono">{restore.target}</span>}
            </Figure>
            <Figure term="What">{restore.include.length ? restore.include.join(', ') : 'everything'}</Figure>
            {restore.safetySnapshot ? (
              <Figure term="Safety snapshot">
                <Link
                  href={`/snapshots/${restore.safetySnapshot}`}
                  className="font-mono text-link underline underline-offset-2"
                >
                  {restore.safetySnapshot.slice(0, 8)}
                </Link>
              </Figure>
            ) : null}
            {job.status === 'succeeded' ? (
              <Figure term="Verified">
                {restore.verified ? 'yes: every file read back as the snapshot holds it' : 'no'}
              </Figure>
            ) : null}
          </>
        ) : null}
      </Figures>
      <JobLive
        job={{ ...job, rate: undefined, etaSeconds: null }}
        log={page.log}
        cancelAction={mayCancel ? cancel : undefined}
      />
    </>
  );
}

function FailoverJob({ page }: { page: Extract<JobPage, { kind: 'failover' }> }) {
  const { event } = page;
  const timeline = JSON.parse(event.timeline) as { step: string; at: number }[];
  const parts = event.dataParts ? (JSON.parse(event.dataParts) as { part: string; ageMs: number | null }[]) : [];
  return (
    <>
      <Figures>
        <Figure term="Outcome">
          {event.ok ? 'done' : <span className="text-destructive-text">failed: {event.error}</span>}
        </Figure>
        <Figure term="Why">{event.reason}</Figure>
        <Figure term="From → to">
          {page.from} → {page.to}
        </Figure>
        <Figure term="Outage began">
          <LocalTime at={event.outageStartedAt} />
        </Figure>
        <Figure term="RTO (downtime)">{seconds(event.rtoMs)}</Figure>
        <Figure term="RPO (data lost)">{seconds(event.rpoMs)}</Figure>
        {event.lostWrites !== null ? <Figure term="Acknowledged writes lost">{event.lostWrites}</Figure> : null}
        {event.clientGapMs !== null ? <Figure term="Gap a client saw">{seconds(event.clientGapMs)}</Figure> : null}
        {parts.map((p) => (
          <Figure key={p.part} term={`Copy of ${p.part}`}>
            {p.ageMs === null ? 'none' : `${seconds(p.ageMs)} old`}
          </Figure>
        ))}
      </Figures>
      <section aria-labelledby="failover-steps" className="mt-6">
        <h2 id="failover-steps" className="text-lg font-medium">
          Steps
        </h2>
        <ol aria-label="Steps" className="mt-2 space-y-1 font-mono text-xs">
          {timeline.map((s, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a recorded timeline never changes order
            <li key={i}>
              +{s.at - (timeline[0]?.at ?? s.at)} ms {s.step}
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}

function DrillJob({ page }: { page: Extract<JobPage, { kind: 'drill' }> }) {
  const { drill } = page;
  return (
    <Figures>
      <Figure term="Outcome">
        {drill.ok ? (
          'the standby restored the data and served it'
        ) : (
          <span className="text-destructive-text">failed: {drill.error}</span>
        )}
      </Figure>
      <Figure term="On">{page.node}</Figure>
      <Figure term="Began">
        <LocalTime at={drill.startedAt} />
      </Figure>
      {drill.snapshotId ? (
        <Figure term="Snapshot">
          <span className="font-mono">{drill.snapshotId.slice(0, 8)}</span>
        </Figure>
      ) : null}
      {drill.dataTime !== null ? (
        <Figure term="Data from">
          <LocalTime at={drill.dataTime} />
        </Figure>
      ) : null}
      <Figure term="Ready in">{seconds(drill.timeToReadyMs)}</Figure>
    </Figures>
  );
}
