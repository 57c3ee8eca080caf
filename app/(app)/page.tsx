import { FORMAT_VERSION } from '@/lib/engine/repository/config';

export default function HomePage() {
  return (
    <main className="mx-auto max-w-3xl p-10">
      <h1 className="text-3xl font-semibold">Lifeline</h1>
      <p className="mt-2 text-slate-600">Backup, restore and failover for a small fleet.</p>
      <section className="mt-8 rounded-lg border border-slate-200 bg-white p-6" aria-labelledby="engine">
        <h2 id="engine" className="text-lg font-medium">
          Backup engine
        </h2>
        <p className="mt-2 text-sm text-slate-600">
          Repository format {FORMAT_VERSION}. The dashboard is on its way; today the engine is driven from the command line:
        </p>
        <pre className="mt-3 overflow-x-auto rounded bg-slate-900 p-4 text-sm text-slate-100">
          {`npx lifeline init --repo /srv/backups
npx lifeline backup --repo /srv/backups /srv/app --sqlite /srv/app/data.db
npx lifeline snapshots --repo /srv/backups
npx lifeline restore --repo /srv/backups latest --target /tmp/restore`}
        </pre>
      </section>
    </main>
  );
}
