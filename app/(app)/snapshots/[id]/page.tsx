import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import path from 'node:path';
import { z } from 'zod';

import { requireUser } from '@/lib/auth/session';
import { listSnapshotDir } from '@/lib/control/repository-queries';
import { maySeeSnapshot } from '@/lib/control/snapshot-access';
import { formatBytes } from '@/lib/format';

const params = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) });
const query = z.object({
  path: z
    .string()
    .refine((p) => path.posix.isAbsolute(p))
    .catch('/'),
});

export async function generateMetadata({ params: p }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const parsed = params.safeParse(await p);
  return { title: parsed.success ? `Snapshot ${parsed.data.id.slice(0, 8)}` : 'No such snapshot' };
}

export default async function SnapshotPage({
  params: p,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const user = await requireUser();
  const parsed = params.safeParse(await p);
  // Unknown, malformed or not the caller's to see: all answered alike (404), naming nothing.
  if (!parsed.success || !maySeeSnapshot(user.role, parsed.data.id)) notFound();
  const { id } = parsed.data;
  const dir = query.parse({ path: (await searchParams).path ?? '/' }).path;
  const listing = await listSnapshotDir(id, dir);
  const href = (p: string) => `/snapshots/${id}?path=${encodeURIComponent(p)}`;
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Snapshot {id.slice(0, 8)}</h1>
      <p className="mt-1 font-mono text-sm">{dir}</p>
      {dir !== '/' ? (
        <Link href={href(path.posix.dirname(dir))} className="text-sm text-sky-700 hover:underline">
          .. (up)
        </Link>
      ) : null}
      {!listing.ok ? (
        <p role="alert" className="mt-4 text-sm text-red-700">
          {listing.error}
        </p>
      ) : (
        <table className="mt-4 w-full text-left text-sm">
          <caption className="sr-only">Contents of {dir}</caption>
          <thead className="text-slate-500">
            <tr>
              <th className="py-2">Name</th>
              <th>Type</th>
              <th className="text-right">Size</th>
            </tr>
          </thead>
          <tbody>
            {listing.data.map((n) => (
              <tr key={n.path} className="border-t border-slate-200">
                <td className="py-1.5">
                  {n.type === 'dir' ? (
                    <Link href={href(n.path)} className="text-sky-700 hover:underline">
                      {n.name}/
                    </Link>
                  ) : (
                    n.name
                  )}
                  {n.target ? <span className="text-slate-500"> → {n.target}</span> : null}
                </td>
                <td>{n.type}</td>
                <td className="text-right">{n.type === 'file' ? formatBytes(n.size ?? 0) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
