'use client';

import { useRouter } from 'next/navigation';

import { useControlEvents } from './use-control-events';

/** Re-renders the page's server data when a snapshot lands, a job ends, or a failover or drill is recorded,
 *  without a reload. */
export function RefreshOnEvents() {
  const router = useRouter();
  useControlEvents((event) => {
    if (
      event.type === 'snapshot' ||
      event.type === 'failover' ||
      event.type === 'drill' ||
      (event.type === 'job' && !['queued', 'running'].includes(event.job.status))
    )
      router.refresh();
  });
  return null;
}
