import { desc, eq, inArray } from 'drizzle-orm';
import Link from 'next/link';

import { formatBytes } from '@/lib/format';
import { RefreshOnEvents } from '@/components/refresh-on-events';
import { requireUser } from '@/lib/auth/session';
import { maySeeSource } from '@/lib/control/snapshot-access';
import { db } from '@/lib/db/client';
import { snapshots } from '@/lib/db/schema';

export default async function SnapshotsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const user = await requireUser();
  const sourceKeys = db()
    .selectDistinct({ key: snapshots.sourceKey })
    .from(snapshots)
    .orderBy(snapshots.sourceKey)
    .all()
    .map((r) => r.key)
    .filter((key) => maySeeSource(user.role, key));
  const wanted = (await searchParams).source;
  const source = wanted && sourceKeys.includes(wanted) ? wanted : null;
  const rows = db()
    .select()
    .from(snapshots)
    .where(
      source ? eq(snapshots.sourceKey, source) : inArray(snapshots.sourceKey, sourceKeys.length ? sourceKeys : ['']),
    )
    .orderBy(desc(snapshots.endedAt))
    .limit(500)
    .all();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <RefreshOnEvents />
      <h1 className="text-2xl font-semibold">Snapshots</h1>
      <nav aria-label="Snapshots per source" className="mt-3 flex flex-wrap gap-2 text-sm">
        {[null, ...sourceKeys].map((key) => (
          <Link
            key={key ?? 'all'}
            href={key ? `/snapshots?source=${encodeURIComponent(key)}` : '/snapshots'}
            aria-current={key === source ? 'page' : undefined}
            className={`rounded-full border px-3 py-1 ${key === source ? 'border-sky-700 bg-sky-50 text-sky-800' : 'border-slate-300 bg-white'}`}
          >
            {key ?? 'All sources'}
          </Link>
        ))}
      </nav>
      {rows.length > 1 ? (
        <form
          action="/snapshots/compare"
          aria-label="Compare two snapshots"
          className="mt-4 flex flex-wrap items-end gap-3 text-sm"
        >
          {(['a', 'b'] as const).map((name, i) => (
            <label key={name} className="block font-medium">
              {i === 0 ? 'Older' : 'Newer'}
              <select
                name={name}
                defaultValue={rows[i === 0 ? 1 : 0].id}
                className="mt-1 block rounded-md border border-slate-300 px-3 py-2 font-normal"
              >
                {rows.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.sourceKey} · {new Date(s.endedAt).toLocaleString()} · {s.id.slice(0, 8)}
                  </option>
                ))}
              </select>
            </label>
          ))}
          <button type="submit" className="rounded-md border border-slate-300 bg-white px-3 py-2">
            Compare
          </button>
        </form>
      ) : null}
      {rows.length === 0 ? (
        <p className="mt-4 text-sm text-slate-500">No snapshot yet.</p>
      ) : (
        <table className="mt-6 w-full text-left text-sm">
          <caption className="sr-only">Snapshots, newest first</caption>
          <thead className="text-slate-500">
            <tr>
              <th className="py-2">Snapshot</th>
              <th>Source</th>
              <th>Finished</th>
              <th className="text-right">Size</th>
              <th className="text-right">New data</th>
              <th className="text-right">Duration</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.id} className="border-t border-slate-200">
                <td className="py-2 font-mono">
                  <Link href={`/snapshots/${s.id}`} className="text-sky-700 hover:underline">
                    {s.id.slice(0, 8)}
                  </Link>
                </td>
                <td>{s.sourceKey}</td>
                <td>{new Date(s.endedAt).toLocaleString()}</td>
                <td className="text-right">{formatBytes(s.bytes)}</td>
                <td className="text-right">{formatBytes(s.newBytes)}</td>
                <td className="text-right">{(s.durationMs / 1000).toFixed(1)} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
