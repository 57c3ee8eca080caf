import { count } from 'drizzle-orm';
import Link from 'next/link';

import { requireUser } from '@/lib/auth/session';
import { recoveryKitAcknowledged, repositoryInfo, repositoryPlace } from '@/lib/control/repository';
import { formatBytes } from '@/lib/format';
import { db } from '@/lib/db/client';
import { snapshots } from '@/lib/db/schema';

import { AttachForm } from './attach-form';

export default async function RepositoryPage() {
  await requireUser('configure');
  const repo = repositoryInfo();
  const place = repo ? await repositoryPlace(repo.location) : null;
  const n = db().select({ n: count() }).from(snapshots).get()!.n;
  return (
    <main className="mx-auto max-w-3xl p-6">
      <h1 className="text-2xl font-semibold">Repository</h1>
      <dl className="mt-4 grid grid-cols-[10rem_1fr] gap-y-2 text-sm">
        <dt className="text-slate-500">Location</dt>
        <dd className="font-mono">{repo?.location ?? 'none'}</dd>
        <dt className="text-slate-500">Place</dt>
        <dd>
          {place ? place.place : 'none'}
          {place?.onThisMachine ? (
            <span className="ml-2 text-amber-700">(on the dashboard's own disk: no copy off this machine)</span>
          ) : null}
        </dd>
        <dt className="text-slate-500">Size</dt>
        <dd>{place ? (place.bytes === null ? `unknown: ${place.error}` : formatBytes(place.bytes)) : '—'}</dd>
        <dt className="text-slate-500">Object lock</dt>
        <dd>
          {place?.objectLock ? `every object kept ${place.objectLock.days} days (${place.objectLock.mode})` : 'none'}
        </dd>
        <dt className="text-slate-500">Snapshots</dt>
        <dd>{n}</dd>
        <dt className="text-slate-500">Recovery kit</dt>
        <dd>
          {recoveryKitAcknowledged() ? (
            'saved'
          ) : (
            <Link href="/settings/recovery-kit" className="text-sky-700 underline">
              not saved yet
            </Link>
          )}
        </dd>
      </dl>
      <section aria-labelledby="attach" className="mt-8 rounded-lg border border-slate-200 bg-white p-6">
        <h2 id="attach" className="text-lg font-medium">
          Attach an existing repository
        </h2>
        <p className="mb-4 mt-1 text-sm text-slate-600">
          Backups go there from now on; its snapshots appear here. The repository in use now is left as it is.
        </p>
        <AttachForm />
      </section>
    </main>
  );
}
