import type { Metadata } from 'next';
import Link from 'next/link';
import { z } from 'zod';

import { requireUser } from '@/lib/auth/session';
import { verifyAudit } from '@/lib/control/audit';
import { ACTIVITY_FILTERS, ACTIVITY_PAGE, activity } from '@/lib/control/activity';
import { Pager } from '@/components/ui/pager';
import { pageOf } from '@/lib/paging';
import { LocalTime } from '@/components/time';
import { Button } from '@/components/ui/button';
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';

export const metadata: Metadata = { title: 'Activity' };

const query = z.object({ show: z.enum(ACTIVITY_FILTERS).catch('all'), q: z.string().max(100).catch('') });

export default async function ActivityPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await requireUser();
  const asked = await searchParams;
  const { show, q } = query.parse({ show: asked.show ?? 'all', q: asked.q ?? '' });
  // The count comes with the first page; a page past the last shows the last.
  const { total } = activity(show, q, 0);
  const page = pageOf(asked.page, total, ACTIVITY_PAGE);
  const { items } = activity(show, q, page);
  const href = (n: number) =>
    `/activity?${new URLSearchParams({ show, q, ...(n > 0 ? { page: String(n + 1) } : {}) })}`;
  const chain = verifyAudit();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Activity</h1>
      <p
        role={chain.ok ? 'status' : 'alert'}
        className={`mt-2 text-sm ${chain.ok ? 'text-muted-foreground' : 'font-medium text-destructive-text'}`}
      >
        {chain.ok
          ? `The audit log is intact: ${chain.records} records in an unbroken hash chain${chain.head ? `, the last #${chain.head.seq} ${chain.head.hash.slice(0, 16)}` : ''}.`
          : `The audit log was altered from record ${chain.brokenAt}: ${chain.why}.`}
      </p>
      <form className="mt-4 flex flex-wrap items-end gap-3" aria-label="Filter activity">
        <div>
          <label htmlFor="activity-show" className="block text-sm font-medium">
            Show
          </label>
          <select
            id="activity-show"
            name="show"
            defaultValue={show}
            className="mt-1 rounded-md border border-border bg-card px-3 py-2 text-sm"
          >
            <option value="all">Everything</option>
            <option value="jobs">Jobs</option>
            <option value="actions">User actions</option>
            <option value="failovers">Failovers and drills</option>
            <option value="failures">Failures</option>
          </select>
        </div>
        <div>
          <label htmlFor="activity-q" className="block text-sm font-medium">
            Containing
          </label>
          <input
            id="activity-q"
            name="q"
            defaultValue={q}
            className="mt-1 rounded-md border border-border bg-card px-3 py-2 text-sm"
          />
        </div>
        <Button type="submit" variant="outline">
          Filter
        </Button>
      </form>
      <Table className="mt-6">
        <TableCaption className="sr-only">Activity, newest first</TableCaption>
        <TableHeader>
          <TableRow>
            <TableHead>When</TableHead>
            <TableHead>Who</TableHead>
            <TableHead>What</TableHead>
            <TableHead>Detail</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {items.map((item) => (
            <TableRow key={item.id} className={item.ok ? undefined : 'text-destructive-text'}>
              <TableCell className="whitespace-nowrap">
                <LocalTime at={item.at} />
              </TableCell>
              <TableCell>{item.who ?? '—'}</TableCell>
              <TableCell>
                {item.href ? (
                  <Link href={item.href} className="underline underline-offset-2">
                    {item.what}
                  </Link>
                ) : (
                  item.what
                )}
              </TableCell>
              <TableCell className="text-xs">{item.detail}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {items.length === 0 ? <p className="mt-4 text-sm text-muted-foreground">Nothing matches.</p> : null}
      <Pager
        label="Activity"
        page={page}
        pageSize={ACTIVITY_PAGE}
        total={total}
        href={href}
        previous="Newer"
        next="Older"
      />
    </main>
  );
}
