import Link from 'next/link';

import { ActionButton } from '@/components/action-button';
import { formatAge } from '@/lib/format';
import { LiveJobs } from '@/components/live-jobs';
import { can } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';
import { runningJobs } from '@/lib/control/job-queue';
import { jobForRole } from '@/lib/control/job-view';
import { sourceHealth } from '@/lib/control/overview';

import { backUpNow, cancel } from './actions';
import { AddSourceForm } from './add-source-form';

export default async function BackupsPage() {
  const user = await requireUser();
  const health = sourceHealth();
  const names = Object.fromEntries(health.map((h) => [h.source.id, h.source.name]));
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Backups</h1>
      <table className="mt-6 w-full text-left text-sm">
        <caption className="sr-only">Sources</caption>
        <thead className="text-slate-500">
          <tr>
            <th className="py-2">Source</th>
            <th>Path</th>
            <th>Schedule</th>
            <th>Last backup</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {health.map(({ source, ageMs, nextRunAt }) => (
            <tr key={source.id} className="border-t border-slate-200">
              <td className="py-2 font-medium">
                {can(user.role, 'configure') ? (
                  <Link href={`/backups/${source.id}`} className="text-sky-700 hover:underline">
                    {source.name}
                  </Link>
                ) : (
                  source.name
                )}
              </td>
              <td className="font-mono text-xs">{source.path}</td>
              <td>{source.schedule ? `${source.schedule}${nextRunAt ? ` (next ${new Date(nextRunAt).toLocaleTimeString()})` : ''}` : 'on demand'}</td>
              <td>{ageMs === null ? 'never' : `${formatAge(ageMs)} ago`}</td>
              <td className="text-right">{can(user.role, 'backup') ? <ActionButton action={backUpNow} fields={{ sourceId: source.id }} label="Back up now" /> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <LiveJobs initial={runningJobs().map((job) => jobForRole(job, user.role))} sourceNames={names} cancelAction={can(user.role, 'cancel') ? cancel : undefined} />
      {can(user.role, 'configure') ? (
        <section aria-labelledby="add-source" className="mt-10 rounded-lg border border-slate-200 bg-white p-6">
          <h2 id="add-source" className="mb-4 text-lg font-medium">
            Add a source
          </h2>
          <AddSourceForm />
        </section>
      ) : null}
    </main>
  );
}
