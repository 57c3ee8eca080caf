import type { Metadata } from 'next';
import Link from 'next/link';

import { JobActionButton } from '@/components/job-action-button';
import { DataTable } from '@/components/ui/data-table';
import { Ago, LocalTime } from '@/components/time';
import { LiveJobs } from '@/components/live-jobs';
import { RefreshOnEvents } from '@/components/refresh-on-events';
import { can } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';
import { runningJobs } from '@/lib/control/job-queue';
import { jobForRole } from '@/lib/control/job-view';
import { type SourceHealth, sourceHealth } from '@/lib/control/overview';
import { db } from '@/lib/db/client';
import { LOCAL_NODE, nodes, plans } from '@/lib/db/schema';

import { backUpNow, backUpPlanNow, cancel } from './actions';
import { AddSourceForm } from './add-source-form';
import { pageVersion } from '@/lib/control/events';

export const metadata: Metadata = { title: 'Backups' };

/** The last good backup, and a backup that did not succeed since, with what it said. */
function LastBackup({ at, attempt }: { at: number | null; attempt: SourceHealth['lastAttempt'] }) {
  const good = at === null ? 'never' : <Ago at={at} />;
  if (!attempt || attempt.status === 'succeeded' || (at !== null && attempt.endedAt <= at)) return good;
  return (
    <>
      <span className="font-medium text-destructive-text" title={attempt.error ?? undefined}>
        {attempt.status} <Ago at={attempt.endedAt} />
      </span>
      {attempt.error ? <span className="block text-xs text-muted-foreground">{attempt.error}</span> : null}
      <span className="block text-xs text-muted-foreground">last good: {good}</span>
    </>
  );
}

export default async function BackupsPage() {
  // Read before the page's data: an event after it makes the stream's version differ (RefreshOnEvents).
  const version = pageVersion();
  const user = await requireUser();
  const health = sourceHealth();
  const names = Object.fromEntries(health.map((h) => [h.source.id, h.source.name]));
  const allPlans = db().select().from(plans).orderBy(plans.name).all();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <RefreshOnEvents version={version} />
      <h1 className="text-2xl font-semibold">Backups</h1>
      <h2 className="mt-6 text-lg font-medium">Sources</h2>
      <DataTable
        label="Sources"
        className="mt-2"
        empty="No source yet."
        columns={[
          { header: 'Source', sortable: true, className: 'font-medium' },
          { header: 'Path', className: 'font-mono text-xs' },
          { header: 'Plan', sortable: true },
          { header: 'Last backup', sortable: true },
          { header: 'Actions', hidden: true, align: 'right' },
        ]}
        rows={health.map(({ source, plan, lastBackupAt, lastAttempt }) => ({
          key: String(source.id),
          sort: [source.name, null, plan.name, lastBackupAt],
          cells: [
            source.name,
            source.node === LOCAL_NODE ? source.path : `${source.node}:${source.path}`,
            plan.name,
            <LastBackup key="last" at={lastBackupAt} attempt={lastAttempt} />,
            can(user.role, 'backup') ? (
              <JobActionButton key="now" action={backUpNow} fields={{ sourceId: source.id }} label="Back up now" />
            ) : null,
          ],
        }))}
      />
      <h2 className="mt-8 text-lg font-medium">Plans</h2>
      <DataTable
        label="Plans"
        className="mt-2"
        empty="No plan yet."
        columns={[
          { header: 'Plan', sortable: true, className: 'font-medium' },
          { header: 'Sources' },
          { header: 'Schedule' },
          { header: 'RPO target', sortable: true },
          { header: 'Retention' },
          { header: 'Actions', hidden: true, align: 'right' },
        ]}
        rows={allPlans.map((plan) => {
          const members = health.filter((h) => h.plan.id === plan.id);
          const next = members[0]?.nextRunAt;
          return {
            key: String(plan.id),
            sort: [plan.name, null, null, plan.rpoTargetMinutes],
            cells: [
              can(user.role, 'configure') ? (
                <Link key="name" href={`/backups/plans/${plan.id}`} className="text-link hover:underline">
                  {plan.name}
                </Link>
              ) : (
                plan.name
              ),
              members.map((m) => m.source.name).join(', '),
              plan.schedule ? (
                <span key="schedule">
                  {plan.schedule}
                  {plan.timezone ? ` ${plan.timezone}` : ''}
                  {next ? (
                    <>
                      {' '}
                      (next <LocalTime at={next} />)
                    </>
                  ) : null}
                </span>
              ) : (
                'on demand'
              ),
              `${plan.rpoTargetMinutes} min`,
              plan.keepLast || plan.keepDaily ? `last ${plan.keepLast}, daily ${plan.keepDaily}` : 'keep all',
              can(user.role, 'backup') && members.length > 0 ? (
                <JobActionButton
                  key="now"
                  action={backUpPlanNow}
                  fields={{ planId: plan.id }}
                  label="Back up plan now"
                />
              ) : null,
            ],
          };
        })}
      />
      <LiveJobs
        initial={runningJobs().map((job) => jobForRole(job, user.role))}
        sourceNames={names}
        cancelAction={can(user.role, 'cancel') ? cancel : undefined}
      />
      {can(user.role, 'configure') ? (
        <section aria-labelledby="add-source" className="mt-10 rounded-lg border border-border bg-card p-6">
          <h2 id="add-source" className="mb-4 text-lg font-medium">
            Add a source
          </h2>
          <AddSourceForm
            plans={allPlans.map((p) => ({ id: p.id, name: p.name }))}
            nodes={db()
              .select({ name: nodes.name })
              .from(nodes)
              .orderBy(nodes.name)
              .all()
              .map((n) => n.name)}
          />
        </section>
      ) : null}
    </main>
  );
}
