import { z } from 'zod';

import { requireUser } from '@/lib/auth/session';
import { compareSnapshots } from '@/lib/control/repository-queries';
import { maySeeSnapshot } from '@/lib/control/snapshot-access';
import { formatBytes } from '@/lib/format';

const query = z.object({
  a: z.string().regex(/^[0-9a-f]{64}$/, 'Pick the older snapshot'),
  b: z.string().regex(/^[0-9a-f]{64}$/, 'Pick the newer snapshot'),
});

export default async function ComparePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const user = await requireUser();
  const parsed = query.safeParse(await searchParams);
  const result = !parsed.success
    ? { ok: false as const, error: parsed.error.issues[0].message }
    : !maySeeSnapshot(user.role, parsed.data.a) || !maySeeSnapshot(user.role, parsed.data.b)
      ? { ok: false as const, error: 'No such snapshot.' }
      : await compareSnapshots(parsed.data.a, parsed.data.b);
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Compare snapshots</h1>
      {parsed.success ? (
        <p className="mt-1 font-mono text-sm">
          {parsed.data.a.slice(0, 8)} → {parsed.data.b.slice(0, 8)}
        </p>
      ) : null}
      {!result.ok ? (
        <p role="alert" className="mt-4 text-sm text-red-700">
          {result.error}
        </p>
      ) : (
        <>
          <p className="mt-4 text-sm">
            {result.data.filter((e) => e.change === 'added').length} added,{' '}
            {result.data.filter((e) => e.change === 'removed').length} removed,{' '}
            {result.data.filter((e) => e.change === 'changed').length} changed
          </p>
          <table className="mt-4 w-full text-left text-sm">
            <caption className="sr-only">Differences</caption>
            <thead className="text-slate-500">
              <tr>
                <th className="py-2">Change</th>
                <th>Path</th>
                <th className="text-right">Size</th>
              </tr>
            </thead>
            <tbody>
              {result.data.map((e) => (
                <tr key={`${e.change}${e.path}`} className="border-t border-slate-200">
                  <td className="py-1.5">{e.change}</td>
                  <td className="font-mono text-xs">{e.path}</td>
                  <td className="text-right">{e.type === 'file' ? formatBytes(e.size) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </main>
  );
}
