import type { Metadata } from 'next';
import Link from 'next/link';

import { NodeTiles } from '@/components/node-tiles';
import { RefreshOnEvents } from '@/components/refresh-on-events';
import { nodesPage } from '@/lib/control/nodes-view';
import { RpoTile } from '@/components/rpo-tile';
import { PAGE_PATH, requireUser } from '@/lib/auth/session';
import { ChartBarDurations } from '@/components/chart-bar-durations';
import { ChartLineRpo } from '@/components/chart-line-rpo';
import { RangePicker } from '@/components/range-picker';
import { parseRange } from '@/lib/chart-range';
import { overviewCharts, sourceHealth } from '@/lib/control/overview';
import { recoveryKitAcknowledged, repositoryInfo } from '@/lib/control/repository';
import { dataDir } from '@/lib/config';
import { LocalTime } from '@/components/time';
import { formatUtc } from '@/lib/format';
import { pageVersion } from '@/lib/control/events';
import { FlaggedBackups } from '@/components/flagged-backups';
import { flaggedBackups } from '@/lib/control/anomalies';
import { can } from '@/lib/auth/roles';

export const metadata: Metadata = { title: 'Overview' };

export default async function OverviewPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // Read before the page's data: an event after it makes the stream's version differ (RefreshOnEvents).
  const version = pageVersion();
  const user = await requireUser();
  const { denied, range: asked } = await searchParams;
  const range = parseRange(asked);
  const health = sourceHealth();
  const charts = overviewCharts(health, range);
  const repo = repositoryInfo();
  const sameMachine = repo?.location.startsWith(dataDir());
  const { groups } = nodesPage();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <RefreshOnEvents version={version} />
      <h1 className="text-2xl font-semibold">Overview</h1>
      {typeof denied === 'string' && PAGE_PATH.test(denied) ? (
        <p role="alert" className="mt-4 rounded-md border border-border bg-muted px-4 py-3 text-sm">
          Your role ({user.role}) does not open {denied}: an administrator can change your role.
        </p>
      ) : null}
      <FlaggedBackups flagged={flaggedBackups()} canDismiss={can(user.role, 'configure')} />
      {!recoveryKitAcknowledged() ? (
        <p role="alert" className="mt-4 rounded-md border border-warning/40 bg-warning/10 px-4 py-3 text-sm">
          The repository&apos;s recovery kit has not been saved yet: without its passphrase no backup can be restored on
          another machine.{' '}
          {user.role === 'admin' ? (
            <Link href="/settings/recovery-kit" className="font-medium text-link underline">
              Save the recovery kit
            </Link>
          ) : (
            'Ask an administrator to save it.'
          )}
        </p>
      ) : null}
      {sameMachine && health.some((h) => !h.offMachine) ? (
        <p className="mt-4 rounded-md border border-border bg-card px-4 py-3 text-sm text-foreground">
          The repository is on the same machine as the data it protects: a lost disk loses both. Give each plan a
          repository for copies off this machine (Settings → Repository), or attach one on another machine.
        </p>
      ) : null}
      <section aria-labelledby="rpo" className="mt-6">
        <h2 id="rpo" className="text-lg font-medium">
          Recovery point per source
        </h2>
        <div className="mt-3 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {health.map((h) => (
            <RpoTile
              key={h.source.id}
              name={h.source.name}
              ageMs={h.ageMs}
              targetMinutes={h.plan.rpoTargetMinutes}
              status={h.status}
              nextRunAt={h.nextRunAt}
              lastRtoMs={charts.lastRtoBySource[h.source.id]}
              copies={h.copies}
              offMachine={h.offMachine}
            />
          ))}
        </div>
      </section>
      {groups.length > 0 ? (
        <section aria-labelledby="failover-groups" className="mt-8">
          <h2 id="failover-groups" className="text-lg font-medium">
            Failover groups
          </h2>
          {groups.map(({ group, members, live, events }) => {
            const last = events.find((e) => e.kind === 'failover' && e.ok);
            return (
              <div key={group.id} className="mt-3">
                <p className="text-sm text-foreground">
                  <Link href="/nodes" className="font-medium text-link hover:underline">
                    {group.name}
                  </Link>{' '}
                  · endpoint <span className="font-mono">{`${group.endpointHost}:${group.endpointPort}`}</span>
                  {last
                    ? ` · last failover: RTO ${((last.rtoMs ?? 0) / 1000).toFixed(2)} s, RPO ${((last.rpoMs ?? 0) / 1000).toFixed(2)} s`
                    : ' · no failover yet'}
                  {group.restoreTestedAt
                    ? ` · restore tested ${formatUtc(group.restoreTestedAt)}`
                    : ' · restore not tested'}
                </p>
                <NodeTiles groupId={group.id} members={members} initial={live} />
              </div>
            );
          })}
        </section>
      ) : null}
      <section aria-labelledby="rpo-history" className="mt-8">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h2 id="rpo-history" className="text-lg font-medium">
            RPO over the last {range}
          </h2>
          <RangePicker current={range} href={(r) => `/?range=${r}`} />
        </div>
        <div className="mt-3 grid gap-4 sm:grid-cols-2">
          {charts.rpo
            .filter((r) => r.points.length > 0)
            .map((r) => (
              <ChartLineRpo
                key={r.name}
                name={r.name}
                points={r.points}
                targetMinutes={r.targetMinutes}
                marks={r.marks}
                range={range}
                from={charts.from}
                to={charts.to}
              />
            ))}
        </div>
      </section>
      <section aria-labelledby="runs" className="mt-8 grid gap-4 sm:grid-cols-2">
        <h2 id="runs" className="sr-only">
          Backups and restores
        </h2>
        <ChartBarDurations title="Backup duration per run" bars={charts.backups} color="var(--primary)" range={range} />
        <ChartBarDurations
          title="Recovery time (RTO): restores, failovers, drills"
          bars={charts.restores}
          color="var(--success)"
          range={range}
        />
      </section>
      <section aria-labelledby="failures" className="mt-8">
        <h2 id="failures" className="text-lg font-medium">
          Failures in the last day
        </h2>
        {charts.failures.length === 0 ? (
          <p className="mt-2 text-sm text-muted-foreground">None.</p>
        ) : (
          <ul className="mt-2 space-y-1 text-sm text-destructive-text">
            {charts.failures.map((f) => (
              <li key={f.at}>
                <LocalTime at={f.at} />: {f.what}: {f.error}
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
