import type { Metadata } from 'next';
import Link from 'next/link';
import { z } from 'zod';

import { requireUser } from '@/lib/auth/session';
import { compareSnapshots } from '@/lib/control/repository-queries';
import { maySeeSnapshot } from '@/lib/control/snapshot-access';
import { formatBytes } from '@/lib/format';
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';

export const metadata: Metadata = { title: 'Compare snapshots' };

const SNAPSHOT_ID = /^[0-9a-f]{64}$/;
const query = z.object({
  a: z.string({ error: 'Pick the older snapshot.' }).regex(SNAPSHOT_ID, 'The older snapshot is not a snapshot’s id.'),
  b: z.string({ error: 'Pick the newer snapshot.' }).regex(SNAPSHOT_ID, 'The newer snapshot is not a snapshot’s id.'),
});

export default async function ComparePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const user = await requireUser();
  const given = await searchParams;
  // Opened without a choice (from a bookmark, or typed): say how to make one.
  if (!given.a && !given.b)
    return (
      <main className="mx-auto max-w-5xl p-6">
        <h1 className="text-2xl font-semibold">Compare snapshots</h1>
        <p className="mt-4 text-sm text-muted-foreground">
          Choose an older and a newer snapshot of a source on the{' '}
          <Link href="/snapshots" className="text-link underline underline-offset-2">
            Snapshots
          </Link>{' '}
          page, then Compare: this page lists what was added, removed and changed between them.
        </p>
      </main>
    );
  const parsed = query.safeParse(given);
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
        <p role="alert" className="mt-4 text-sm text-destructive-text">
          {result.error}
        </p>
      ) : (
        <>
          <p className="mt-4 text-sm">
            {result.data.filter((e) => e.change === 'added').length} added,{' '}
            {result.data.filter((e) => e.change === 'removed').length} removed,{' '}
            {result.data.filter((e) => e.change === 'changed').length} changed
          </p>
          <Table className="mt-4">
            <TableCaption className="sr-only">Differences</TableCaption>
            <TableHeader>
              <TableRow>
                <TableHead>Change</TableHead>
                <TableHead>Path</TableHead>
                <TableHead className="text-right">Size</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {result.data.map((e) => (
                <TableRow key={`${e.change}${e.path}`}>
                  <TableCell>{e.change}</TableCell>
                  <TableCell className="font-mono text-xs">{e.path}</TableCell>
                  <TableCell className="text-right">{e.type === 'file' ? formatBytes(e.size) : ''}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </>
      )}
    </main>
  );
}
