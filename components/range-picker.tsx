import Link from 'next/link';

import { RANGE_NAMES, type Range } from '@/lib/chart-range';
import { cn } from '@/lib/utils';

/** The charts' time range, as links (the page reads `?range=`): the last hour, day, week or month. */
export function RangePicker({ current, href }: { current: Range; href: (range: Range) => string }) {
  return (
    <nav aria-label="Time range" className="flex gap-1 text-sm">
      {RANGE_NAMES.map((range) => (
        <Link
          key={range}
          href={href(range)}
          aria-current={range === current ? 'true' : undefined}
          className={cn(
            'rounded-md border border-border px-2.5 py-1',
            range === current ? 'bg-primary text-primary-foreground' : 'bg-card hover:bg-muted',
          )}
        >
          {range}
        </Link>
      ))}
    </nav>
  );
}
