import type { Metadata } from 'next';
import { count } from 'drizzle-orm';
import Link from 'next/link';

import { requireUser } from '@/lib/auth/session';
import { recoveryKitAcknowledged, repositoryInfo, repositoryPlace } from '@/lib/control/repository';
import { formatBytes } from '@/lib/format';
import { db } from '@/lib/db/client';
import { plans, snapshots } from '@/lib/db/schema';
import { ConfirmRemove } from '@/components/confirm-remove';
import { JobActionButton } from '@/components/job-action-button';
import { listCopyRepositories } from '@/lib/control/copies';

import { pruneNow, removeCopyTarget, verifyNow } from './actions';
import { AttachForm } from './attach-form';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';

export const metadata: Metadata = { title: 'Repository' };

export default async function RepositoryPage() {
  await requireUser('configure');
  const repo = repositoryInfo();
  const place = repo ? await repositoryPlace(repo.location) : null;
  const n = db().select({ n: count() }).from(snapshots).get()!.n;
  const allPlans = db().select().from(plans).all();
  const copies = await Promise.all(
    listCopyRepositories().map(async (repository) => ({
      repository,
      place: await repositoryPlace(repository.location, repository.s3Credentials),
      planNames: allPlans.filter((p) => p.copyRepositoryId === repository.id).map((p) => p.name),
    })),
  );
  return (
    <main className="mx-auto max-w-3xl p-6">
      <h1 className="text-2xl font-semibold">Repository</h1>
      <dl className="mt-4 grid grid-cols-[10rem_1fr] gap-y-2 text-sm">
        <dt className="text-muted-foreground">Location</dt>
        <dd className="font-mono">{repo?.location ?? 'none'}</dd>
        <dt className="text-muted-foreground">Place</dt>
        <dd>
          {place ? place.place : 'none'}
          {place?.onThisMachine ? (
            <span className="ml-2 text-warning-text">(on the dashboard's own disk: no copy off this machine)</span>
          ) : null}
        </dd>
        <dt className="text-muted-foreground">Size</dt>
        <dd>{place ? (place.bytes === null ? `unknown: ${place.error}` : formatBytes(place.bytes)) : '—'}</dd>
        <dt className="text-muted-foreground">Object lock</dt>
        <dd>
          {place?.objectLock ? `every object kept ${place.objectLock.days} days (${place.objectLock.mode})` : 'none'}
        </dd>
        <dt className="text-muted-foreground">Snapshots</dt>
        <dd>{n}</dd>
        <dt className="text-muted-foreground">Recovery kit</dt>
        <dd>
          {recoveryKitAcknowledged() ? (
            'saved'
          ) : (
            <Link href="/settings/recovery-kit" className="text-link underline">
              not saved yet
            </Link>
          )}
        </dd>
      </dl>
      {repo ? (
        <section aria-labelledby="upkeep" className="mt-8 rounded-lg border border-border bg-card p-6">
          <h2 id="upkeep" className="text-lg font-medium">
            Upkeep
          </h2>
          <p className="mt-1 text-sm text-muted-foreground">
            Verify checks that every snapshot's data is where the index says and reads back a share of it. Prune deletes
            the data that no snapshot uses any more (retention forgets snapshots; their data stays until a prune) and
            repacks packs that are partly unused; backups go on meanwhile. A prune runs on its own every Sunday at
            04:00, server time.
          </p>
          <div className="mt-3 flex flex-wrap items-center gap-3">
            <JobActionButton
              action={verifyNow}
              fields={{ location: repo.location, readDataPercent: 10 }}
              label="Verify now"
              noun="verify"
            />
            <JobActionButton action={pruneNow} fields={{ location: repo.location }} label="Prune now" noun="prune" />
          </div>
        </section>
      ) : null}
      <section aria-labelledby="copies" className="mt-8 rounded-lg border border-border bg-card p-6">
        <h2 id="copies" className="text-lg font-medium">
          Repositories for copies
        </h2>
        <p className="mt-1 text-sm text-muted-foreground">
          A plan can copy each snapshot into a second repository (Copy to, on the plan&apos;s page), after each backup
          or on a schedule of its own: a copy off this machine survives the loss of its disk. A copy is encrypted again
          with the second repository&apos;s keys and does not share data with what that repository holds otherwise.
        </p>
        {copies.length === 0 ? (
          <p className="mt-3 text-sm text-muted-foreground">None yet.</p>
        ) : (
          <Table className="mt-3">
            <TableHeader>
              <TableRow>
                <TableHead className="font-medium">Name</TableHead>
                <TableHead className="font-medium">Place</TableHead>
                <TableHead className="font-medium">Size</TableHead>
                <TableHead className="font-medium">Plans</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {copies.map(({ repository, place, planNames }) => (
                <TableRow key={repository.id} className="border-border align-top">
                  <TableCell className="font-medium">{repository.name}</TableCell>
                  <TableCell>
                    {place.place}
                    {place.onThisMachine ? <span className="ml-1 text-warning-text">(on this machine)</span> : null}
                    {place.objectLock
                      ? ` · object lock: ${place.objectLock.days} days (${place.objectLock.mode})`
                      : null}
                  </TableCell>
                  <TableCell>{place.bytes === null ? `unknown: ${place.error}` : formatBytes(place.bytes)}</TableCell>
                  <TableCell>{planNames.join(', ') || 'none'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
        {copies.map(({ repository }) => (
          <ConfirmRemove
            key={repository.id}
            action={removeCopyTarget}
            fields={{ id: String(repository.id) }}
            name={repository.name}
            label={`Remove ${repository.name}`}
            explain="Plans stop copying into it. What it holds stays there, and can be attached again."
          />
        ))}
        <h3 className="mt-6 font-medium">Add a repository for copies</h3>
        <div className="mt-3">
          <AttachForm forCopies />
        </div>
      </section>
      <section aria-labelledby="attach" className="mt-8 rounded-lg border border-border bg-card p-6">
        <h2 id="attach" className="text-lg font-medium">
          Attach an existing repository
        </h2>
        <p className="mb-4 mt-1 text-sm text-muted-foreground">
          Backups go there from now on; its snapshots appear here. The repository in use now is left as it is.
        </p>
        <AttachForm />
      </section>
    </main>
  );
}
