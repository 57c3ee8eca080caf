import type { Metadata } from 'next';
import { z } from 'zod';

import { requireUser } from '@/lib/auth/session';
import { verifyAudit } from '@/lib/control/audit';
import { ACTIVITY_FILTERS, activity } from '@/lib/control/activity';
import { LocalTime } from '@/components/time';

export const metadata: Metadata = { title: 'Activity' };

const query = z.object({ show: z.enum(ACTIVITY_FILTERS).catch('all'), q: z.string().max(100).catch('') });

export default async function ActivityPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await requireUser();
  const { show, q } = query.parse({ show: (await searchParams).show ?? 'all', q: (await searchParams).q ?? '' });
  const items = activity(show, q);
  const chain = verifyAudit();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Activity</h1>
      <p
        role={chain.ok ? 'status' : 'alert'}
        className={`mt-2 text-sm ${chain.ok ? 'text-slate-600' : 'font-medium text-red-700'}`}
      >
        {chain.ok
          ? `The audit log is intact: ${chain.records} records in an unbroken hash chain${chain.head ? `, the last #${chain.head.seq} ${chain.head.hash.slice(0, 16)}` : ''}.`
          : `The audit log was altered from record ${chain.brokenAt}: ${chain.why}.`}
      </p>
      <form className="mt-4 flex items-end gap-3" aria-label="Filter activity">
        <div>
          <label htmlFor="activity-show" className="block text-sm font-medium text-slate-700">
            Show
          </label>
          <select
            id="activity-show"
            name="show"
            defaultValue={show}
            className="mt-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
          >
            <option value="all">Everything</option>
            <option value="jobs">Jobs</option>
            <option value="actions">User actions</option>
            <option value="failovers">Failovers and drills</option>
            <option value="failures">Failures</option>
          </select>
        </div>
        <div>
          <label htmlFor="activity-q" className="block text-sm font-medium text-slate-700">
            Containing
          </label>
          <input
            id="activity-q"
            name="q"
            defaultValue={q}
            className="mt-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
          />
        </div>
        <button type="submit" className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
          Filter
        </button>
      </form>
      <table className="mt-6 w-full text-left text-sm">
        <caption className="sr-only">Activity, newest first</caption>
        <thead className="text-slate-500">
          <tr>
            <th className="py-2">When</th>
            <th>Who</th>
            <th>What</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id} className={`border-t border-slate-200 ${item.ok ? '' : 'text-red-700'}`}>
              <td className="py-2 whitespace-nowrap">
                <LocalTime at={item.at} />
              </td>
              <td>{item.who ?? '—'}</td>
              <td>{item.what}</td>
              <td className="text-xs">{item.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {items.length === 0 ? <p className="mt-4 text-sm text-slate-500">Nothing matches.</p> : null}
    </main>
  );
}
