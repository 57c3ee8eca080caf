import Link from 'next/link';

export default function JobNotFound() {
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">No such job.</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        The link may be mistyped, or the job&apos;s group was removed.{' '}
        <Link href="/activity" className="text-link underline underline-offset-2">
          All activity
        </Link>
      </p>
    </main>
  );
}
