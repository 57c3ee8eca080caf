import type { Metadata } from 'next';

import { ConfirmRemove } from '@/components/confirm-remove';
import { LocalTime } from '@/components/time';
import { requireUser } from '@/lib/auth/session';
import { metricsTokenMade } from '@/lib/control/metrics-token';
import { controlPlaneUrl } from '@/lib/control/node-registry';

import { revokeToken } from './actions';
import { MakeTokenForm } from './token-form';

export const metadata: Metadata = { title: 'Metrics' };

export default async function MetricsSettingsPage() {
  await requireUser('configure');
  const made = metricsTokenMade();
  return (
    <main className="mx-auto max-w-3xl p-6">
      <h1 className="text-2xl font-semibold">Metrics</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        Prometheus scrapes <span className="font-mono">/metrics</span> with a bearer token: the backups&apos; RPO and
        jobs, the repositories&apos; sizes, the nodes&apos; health and the failovers (docs/metrics.md lists them, and
        docs/grafana-dashboard.json charts them). Without a token, /metrics answers nobody.
      </p>
      <section aria-labelledby="token" className="mt-6">
        <h2 id="token" className="text-lg font-medium">
          Token
        </h2>
        <p className="mt-2 text-sm">
          {made ? (
            <>
              A token made <LocalTime at={made} /> is in use. Only its hash is kept: a lost token is replaced, not shown
              again.
            </>
          ) : (
            'No token: /metrics is off.'
          )}
        </p>
        <MakeTokenForm replaces={made !== null} url={controlPlaneUrl()} />
        {made ? (
          <div className="mt-3">
            <ConfirmRemove
              action={revokeToken}
              fields={{}}
              name="metrics"
              label="Revoke the token"
              explain="Prometheus can no longer scrape /metrics until a new token is made and put in its config."
            />
          </div>
        ) : null}
      </section>
    </main>
  );
}
