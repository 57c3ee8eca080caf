// What a page shows while its data is read: each segment's loading.tsx renders it. Only segments with no page below
// them that answers 404 have one: a page inside a loading boundary is streamed, and its notFound() could then only
// say so with a 200.

/** Shown while a page's data is read (the activity, a restore's snapshots, a comparison, settings): the navigation
 *  stays usable. */
export function PageLoading() {
  return (
    <main className="mx-auto max-w-5xl p-6">
      <p role="status" className="animate-pulse text-sm text-muted-foreground">
        Loading…
      </p>
    </main>
  );
}
