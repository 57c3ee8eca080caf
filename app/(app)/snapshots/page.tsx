import type { Metadata } from 'next';
import { count, desc, eq, inArray } from 'drizzle-orm';
import Link from 'next/link';

import { formatBytes, formatUtc } from '@/lib/format';
import { RefreshOnEvents } from '@/components/refresh-on-events';
import { requireUser } from '@/lib/auth/session';
import { maySeeSource } from '@/lib/control/snapshot-access';
import { db } from '@/lib/db/client';
import { snapshots } from '@/lib/db/schema';
import { LocalTime } from '@/components/time';
import { Pager } from '@/components/ui/pager';
import { pageOf } from '@/lib/paging';
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';
import { Button } from '@/components/ui/button';
import { pageVersion } from '@/lib/control/events';

export const metadata: Metadata = { title: 'Snapshots' };

/** Snapshots a page lists, newest first (the rest on the pages after). */
const PAGE_SIZE = 100;

export default async function SnapshotsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  // Read before the page's data: an event after it makes the stream's version differ (RefreshOnEvents).
  const version = pageVersion();
  const user = await requireUser();
  const sourceKeys = db()
    .selectDistinct({ key: snapshots.sourceKey })
    .from(snapshots)
    .orderBy(snapshots.sourceKey)
    .all()
    .map((r) => r.key)
    .filter((key) => maySeeSource(user.role, key));
  const query = await searchParams;
  const wanted = query.source;
  const source = wanted && sourceKeys.includes(wanted) ? wanted : null;
  const which = source
    ? eq(snapshots.sourceKey, source)
    : inArray(snapshots.sourceKey, sourceKeys.length ? sourceKeys : ['']);
  const total = db().select({ n: count() }).from(snapshots).where(which).get()?.n ?? 0;
  const page = pageOf(query.page, total, PAGE_SIZE);
  const rows = db()
    .select()
    .from(snapshots)
    .where(which)
    .orderBy(desc(snapshots.endedAt))
    .limit(PAGE_SIZE)
    .offset(page * PAGE_SIZE)
    .all();
  const pageHref = (n: number) => {
    const params = new URLSearchParams();
    if (source) params.set('source', source);
    if (n > 0) params.set('page', String(n + 1));
    const q = params.toString();
    return q ? `/snapshots?${q}` : '/snapshots';
  };
  return (
    <main className="mx-auto max-w-5xl p-6">
      <RefreshOnEvents version={version} />
      <h1 className="text-2xl font-semibold">Snapshots</h1>
      <nav aria-label="Snapshots per source" className="mt-3 flex flex-wrap gap-2 text-sm">
        {[null, ...sourceKeys].map((key) => (
          <Link
            key={key ?? 'all'}
            href={key ? `/snapshots?source=${encodeURIComponent(key)}` : '/snapshots'}
            aria-current={key === source ? 'page' : undefined}
            className={`rounded-full border px-3 py-1 ${key === source ? 'border-primary bg-primary/10 text-link' : 'border-border bg-card'}`}
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
                className="mt-1 block rounded-md border border-border px-3 py-2 font-normal"
              >
                {rows.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.sourceKey} · {formatUtc(s.endedAt)} · {s.id.slice(0, 8)}
                  </option>
                ))}
              </select>
            </label>
          ))}
          <Button type="submit" variant="outline" size="lg">
            Compare
          </Button>
        </form>
      ) : null}
      {rows.length === 0 ? (
        <p className="mt-4 text-sm text-muted-foreground">No snapshot yet.</p>
      ) : (
        <div className="mt-6">
          <Table>
            <TableCaption className="sr-only">Snapshots, newest first</TableCaption>
            <TableHeader>
              <TableRow>
                <TableHead>Snapshot</TableHead>
                <TableHead>Source</TableHead>
                <TableHead>Finished</TableHead>
                <TableHead className="text-right">Size</TableHead>
                <TableHead className="text-right">New data</TableHead>
                <TableHead className="text-right">Duration</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {rows.map((s) => (
                <TableRow key={s.id}>
                  <TableCell className="font-mono">
                    <Link href={`/snapshots/${s.id}`} className="text-link hover:underline">
                      {s.id.slice(0, 8)}
                    </Link>
                  </TableCell>
                  <TableCell>{s.sourceKey}</TableCell>
                  <TableCell>
                    <LocalTime at={s.endedAt} />
                  </TableCell>
                  <TableCell className="text-right">{formatBytes(s.bytes)}</TableCell>
                  <TableCell className="text-right">{formatBytes(s.newBytes)}</TableCell>
                  <TableCell className="text-right">{(s.durationMs / 1000).toFixed(1)} s</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          <Pager
            label="Snapshots"
            page={page}
            pageSize={PAGE_SIZE}
            total={total}
            href={pageHref}
            previous="Newer"
            next="Older"
          />
        </div>
      )}
    </main>
  );
}
