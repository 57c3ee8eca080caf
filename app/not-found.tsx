import type { Metadata } from 'next';
import Link from 'next/link';

export const metadata: Metadata = { title: 'Not found' };

/** A path that is no page of the console. */
export default function NotFound() {
  return (
    <main className="mx-auto max-w-xl p-6">
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        No page of Lifeline is at this address.{' '}
        <Link href="/" className="text-link underline underline-offset-2">
          Back to the overview
        </Link>
      </p>
    </main>
  );
}
