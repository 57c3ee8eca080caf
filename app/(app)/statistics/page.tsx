import type { Metadata } from 'next';

import { ActionButton } from '@/components/action-button';
import { ChartLineGrowth } from '@/components/chart-line-growth';
import { RangePicker } from '@/components/range-picker';
import { LocalTime } from '@/components/time';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';
import { can } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';
import { parseRange, RANGES } from '@/lib/chart-range';
import { latestStats, type RepositoryFigures, statsSince } from '@/lib/control/repository-stats';
import { formatBytes } from '@/lib/format';

import { sampleStatsNow } from './actions';

export const metadata: Metadata = { title: 'Statistics' };

const ratio = (r: number) => `${r.toFixed(2)}×`;

/** The dashboard's repository and each node's, by the name the page gives them. */
const nameOf = (repository: string) =>
  repository === 'dashboard' ? "The dashboard's repository" : `Node ${repository.slice('node:'.length)}'s repository`;

export default async function StatisticsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const user = await requireUser();
  const range = parseRange((await searchParams).range);
  const to = Date.now();
  const from = to - RANGES[range];
  const repositories = latestStats();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-2xl font-semibold">Statistics</h1>
        {can(user.role, 'backup') ? <ActionButton action={sampleStatsNow} fields={{}} label="Sample now" /> : null}
      </div>
      <p className="mt-2 text-sm text-muted-foreground">
        What each repository stores, read from the repository every hour and after each prune. Deduplication: the
        content the snapshots hold over the distinct data behind it. Compression: that data over what it takes as
        stored.
      </p>
      <div className="mt-4 flex flex-wrap items-center gap-2 text-sm">
        Growth over the last
        <RangePicker current={range} href={(x) => `/statistics?range=${x}`} />
      </div>
      {repositories.length === 0 ? (
        <p className="mt-6 text-sm">No statistics yet: they are sampled within the hour, or now with Sample now.</p>
      ) : null}
      {repositories.map((r) => (
        <RepositorySection key={r.repository} figures={r} range={range} from={from} to={to} />
      ))}
    </main>
  );
}

function RepositorySection({
  figures: r,
  range,
  from,
  to,
}: {
  figures: RepositoryFigures;
  range: ReturnType<typeof parseRange>;
  from: number;
  to: number;
}) {
  const id = `repo-${r.repository.replace(/[^a-z0-9]+/gi, '-')}`;
  const growth = statsSince(r.repository, from).map((s) => ({
    at: s.at,
    packBytes: s.packBytes,
    logicalBytes: s.logicalBytes,
  }));
  return (
    <section aria-labelledby={id} className="mt-8">
      <h2 id={id} className="text-lg font-medium">
        {nameOf(r.repository)}
      </h2>
      <dl className="mt-3 grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
        {[
          ['Stored', formatBytes(r.packBytes)],
          ['In snapshots', formatBytes(r.logicalBytes)],
          ['Deduplication', ratio(r.dedupRatio)],
          ['Compression', ratio(r.compressionRatio)],
        ].map(([term, value]) => (
          <div key={term} className="rounded-lg border border-border bg-card p-3">
            <dt className="text-muted-foreground">{term}</dt>
            <dd className="text-lg font-semibold">{value}</dd>
          </div>
        ))}
      </dl>
      <p className="mt-2 text-xs text-muted-foreground">
        {r.snapshots} snapshots in {r.packs} packs; sampled <LocalTime at={r.at} />.
        {r.packBytes > r.storedBytes
          ? ` ${formatBytes(r.packBytes - r.storedBytes)} of the packs is data no snapshot uses any more, until the next prune.`
          : ''}
      </p>
      <div className="mt-3">
        <ChartLineGrowth name={nameOf(r.repository)} points={growth} range={range} from={from} to={to} />
      </div>
      <Table className="mt-3">
        <TableHeader>
          <TableRow>
            <TableHead>Source</TableHead>
            <TableHead className="text-right">Snapshots</TableHead>
            <TableHead className="text-right">Latest</TableHead>
            <TableHead className="text-right">Stored</TableHead>
            <TableHead className="text-right">Its own</TableHead>
            <TableHead className="text-right">Dedup</TableHead>
            <TableHead className="text-right">Compression</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {r.sources.map((s) => (
            <TableRow key={s.source}>
              <TableCell className="font-mono">{s.source}</TableCell>
              <TableCell className="text-right">{s.snapshots}</TableCell>
              <TableCell className="text-right">{formatBytes(s.latestBytes)}</TableCell>
              <TableCell className="text-right">{formatBytes(s.storedBytes)}</TableCell>
              <TableCell className="text-right">{formatBytes(s.exclusiveStoredBytes)}</TableCell>
              <TableCell className="text-right">{ratio(s.rawBytes > 0 ? s.logicalBytes / s.rawBytes : 1)}</TableCell>
              <TableCell className="text-right">{ratio(s.storedBytes > 0 ? s.rawBytes / s.storedBytes : 1)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </section>
  );
}
