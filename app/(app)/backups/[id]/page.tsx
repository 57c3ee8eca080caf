import { eq } from 'drizzle-orm';
import { notFound } from 'next/navigation';

import { requireUser } from '@/lib/auth/session';
import { db } from '@/lib/db/client';
import { sources } from '@/lib/db/schema';

import { EditSourceForm } from './edit-source-form';

export default async function SourcePage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser('configure');
  const id = Number((await params).id);
  const source = Number.isInteger(id) ? db().select().from(sources).where(eq(sources.id, id)).get() : undefined;
  if (!source) notFound();
  const { schedule, timezone, rpoTargetMinutes, excludes, keepLast, keepDaily, preCommand, postCommand, commandTimeoutSeconds } = source;
  return (
    <main className="mx-auto max-w-4xl p-6">
      <h1 className="text-2xl font-semibold">Source {source.name}</h1>
      <p className="mt-1 font-mono text-sm">
        {source.kind} · {source.node}:{source.path}
      </p>
      <section className="mt-6 rounded-lg border border-slate-200 bg-white p-6">
        <EditSourceForm sourceId={source.id} current={{ schedule, timezone, rpoTargetMinutes, excludes, keepLast, keepDaily, preCommand, postCommand, commandTimeoutSeconds }} />
      </section>
    </main>
  );
}
