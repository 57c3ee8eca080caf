import Link from 'next/link';

/** A snapshot that is unknown, or not the caller's to see: the same words either way. */
export default function SnapshotNotFound() {
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">No such snapshot.</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        It may have been forgotten by retention, or the link is mistyped.{' '}
        <Link href="/snapshots" className="text-link underline underline-offset-2">
          All snapshots
        </Link>
      </p>
    </main>
  );
}
