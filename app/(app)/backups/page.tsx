import Link from 'next/link';

import { ActionButton } from '@/components/action-button';
import { formatAge } from '@/lib/format';
import { LiveJobs } from '@/components/live-jobs';
import { can } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';
import { runningJobs } from '@/lib/control/job-queue';
import { jobForRole } from '@/lib/control/job-view';
import { sourceHealth } from '@/lib/control/overview';
import { db } from '@/lib/db/client';
import { LOCAL_NODE, nodes, plans } from '@/lib/db/schema';

import { backUpNow, backUpPlanNow, cancel } from './actions';
import { AddSourceForm } from './add-source-form';

export default async function BackupsPage() {
  const user = await requireUser();
  const health = sourceHealth();
  const names = Object.fromEntries(health.map((h) => [h.source.id, h.source.name]));
  const allPlans = db().select().from(plans).orderBy(plans.name).all();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Backups</h1>
      <h2 className="mt-6 text-lg font-medium">Sources</h2>
      <table aria-label="Sources" className="mt-2 w-full text-left text-sm">
        <thead className="text-slate-500">
          <tr>
            <th className="py-2">Source</th>
            <th>Path</th>
            <th>Plan</th>
            <th>Last backup</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {health.map(({ source, plan, ageMs }) => (
            <tr key={source.id} className="border-t border-slate-200">
              <td className="py-2 font-medium">{source.name}</td>
              <td className="font-mono text-xs">
                {source.node === LOCAL_NODE ? source.path : `${source.node}:${source.path}`}
              </td>
              <td>{plan.name}</td>
              <td>{ageMs === null ? 'never' : `${formatAge(ageMs)} ago`}</td>
              <td className="text-right">
                {can(user.role, 'backup') ? (
                  <ActionButton action={backUpNow} fields={{ sourceId: source.id }} label="Back up now" />
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2 className="mt-8 text-lg font-medium">Plans</h2>
      <table aria-label="Plans" className="mt-2 w-full text-left text-sm">
        <thead className="text-slate-500">
          <tr>
            <th className="py-2">Plan</th>
            <th>Sources</th>
            <th>Schedule</th>
            <th>RPO target</th>
            <th>Retention</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {allPlans.map((plan) => {
            const members = health.filter((h) => h.plan.id === plan.id);
            const next = members[0]?.nextRunAt;
            return (
              <tr key={plan.id} className="border-t border-slate-200">
                <td className="py-2 font-medium">
                  {can(user.role, 'configure') ? (
                    <Link href={`/backups/plans/${plan.id}`} className="text-sky-700 hover:underline">
                      {plan.name}
                    </Link>
                  ) : (
                    plan.name
                  )}
                </td>
                <td>{members.map((m) => m.source.name).join(', ')}</td>
                <td>
                  {plan.schedule
                    ? `${plan.schedule}${plan.timezone ? ` ${plan.timezone}` : ''}${next ? ` (next ${new Date(next).toLocaleTimeString()})` : ''}`
                    : 'on demand'}
                </td>
                <td>{plan.rpoTargetMinutes} min</td>
                <td>
                  {plan.keepLast || plan.keepDaily ? `last ${plan.keepLast}, daily ${plan.keepDaily}` : 'keep all'}
                </td>
                <td className="text-right">
                  {can(user.role, 'backup') && members.length > 0 ? (
                    <ActionButton action={backUpPlanNow} fields={{ planId: plan.id }} label="Back up plan now" />
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <LiveJobs
        initial={runningJobs().map((job) => jobForRole(job, user.role))}
        sourceNames={names}
        cancelAction={can(user.role, 'cancel') ? cancel : undefined}
      />
      {can(user.role, 'configure') ? (
        <section aria-labelledby="add-source" className="mt-10 rounded-lg border border-slate-200 bg-white p-6">
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
