'use client';

// Times as the browser shows them: in its own time zone, and ages that tick. The server renders the same text the
// browser's first render does (a UTC time, no age yet), so hydration never meets a difference; the browser then
// puts its own in.
import { useEffect, useState } from 'react';

import { formatAge, formatUtc } from '@/lib/format';

/** The time now, every `everyMs`; null until the browser has rendered (the server's render and the first client
 *  render agree). */
export function useNow(everyMs = 1000): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** `at` in the browser's zone (date and time, or the time alone), as a <time> element. */
export function LocalTime({ at, only }: { at: number; only?: 'time' }) {
  const [text, setText] = useState(() => formatUtc(at));
  useEffect(() => {
    const date = new Date(at);
    setText(only === 'time' ? date.toLocaleTimeString() : date.toLocaleString());
  }, [at, only]);
  return (
    <time dateTime={new Date(at).toISOString()} title={formatUtc(at)}>
      {text}
    </time>
  );
}

/** How long ago `at` was ("42 s ago"), ticking; its exact time in the browser's zone as its title. */
export function Ago({ at }: { at: number }) {
  const now = useNow(1000);
  return (
    <time dateTime={new Date(at).toISOString()} title={now === null ? formatUtc(at) : new Date(at).toLocaleString()}>
      {now === null ? formatUtc(at) : `${formatAge(Math.max(0, now - at))} ago`}
    </time>
  );
}
