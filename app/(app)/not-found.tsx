import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        Nothing is here: it may have been removed, or the link is mistyped.{' '}
        <Link href="/" className="text-link underline underline-offset-2">
          Back to the overview
        </Link>
      </p>
    </main>
  );
}
