'use client';

import { useEffect } from 'react';

import { Button } from '@/components/ui/button';

/** A page that failed to render: what to do next, and the error's reference in the server's log (its digest); the
 *  message itself stays on the server. */
export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">This page could not be shown</h1>
      <p role="alert" className="mt-2 text-sm text-muted-foreground">
        Something went wrong on the server.{error.digest ? ` Its log names it ${error.digest}.` : ''} Nothing was
        changed by showing this page.
      </p>
      <Button className="mt-4" onClick={reset}>
        Try again
      </Button>
    </main>
  );
}
