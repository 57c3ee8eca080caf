'use client';

import { useRouter } from 'next/navigation';
import { useRef } from 'react';

import { changesPages } from '@/lib/control/page-events';
import { useControlEvents } from './use-control-events';

/** Re-renders the page's server data when a snapshot lands, a job ends, or a failover or drill is recorded, without
 *  a reload; and when the event stream (re)opens at another `version` than the page was rendered at (pageVersion()
 *  on the server): such an event came while nobody on this page listened. */
export function RefreshOnEvents({ version }: { version: string }) {
  const router = useRouter();
  const rendered = useRef(version);
  rendered.current = version;
  useControlEvents((event) => {
    if (event.type === 'hello' ? event.version !== rendered.current : changesPages(event)) router.refresh();
  });
  return null;
}
