import Link from 'next/link';

import { RefreshOnEvents } from '@/components/refresh-on-events';
import { RpoTile } from '@/components/rpo-tile';
import { requireUser } from '@/lib/auth/session';
import { sourceHealth } from '@/lib/control/overview';
import { recoveryKitAcknowledged, repositoryInfo } from '@/lib/control/repository';
import { dataDir } from '@/lib/config';

export default async function OverviewPage() {
  const user = await requireUser();
  const health = sourceHealth();
  const repo = repositoryInfo();
  const sameMachine = repo?.location.startsWith(dataDir());
  return (
    <main className="mx-auto max-w-5xl p-6">
      <RefreshOnEvents />
      <h1 className="text-2xl font-semibold">Overview</h1>
      {!recoveryKitAcknowledged() ? (
        <p role="alert" className="mt-4 rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm">
          The repository&apos;s recovery kit has not been saved yet: without its passphrase no backup can be restored on another machine.{' '}
          {user.role === 'admin' ? (
            <Link href="/settings/recovery-kit" className="font-medium text-sky-700 underline">
              Save the recovery kit
            </Link>
          ) : (
            'Ask an administrator to save it.'
          )}
        </p>
      ) : null}
      {sameMachine ? (
        <p className="mt-4 rounded-md border border-slate-300 bg-white px-4 py-3 text-sm text-slate-700">
          The only repository is on the same machine as the data it protects: a lost disk loses both. Copy the repository elsewhere or attach one on
          another machine.
        </p>
      ) : null}
      <section aria-labelledby="rpo" className="mt-6">
        <h2 id="rpo" className="text-lg font-medium">
          Recovery point per source
        </h2>
        <div className="mt-3 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {health.map((h) => (
            <RpoTile key={h.source.id} name={h.source.name} ageMs={h.ageMs} targetMinutes={h.source.rpoTargetMinutes} status={h.status} nextRunAt={h.nextRunAt} />
          ))}
        </div>
      </section>
    </main>
  );
}
