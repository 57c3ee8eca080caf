'use client';

import { FormStatus, SubmitButton, useForm } from '@/components/form';

import { makeToken } from './actions';

/** Makes the metrics token; it is shown once, with the scrape config it goes in. */
export function MakeTokenForm({ replaces, url }: { replaces: boolean; url: string }) {
  const { state, dispatch } = useForm(makeToken);
  const token = state?.ok ? (state.data as { token: string } | undefined)?.token : undefined;
  return (
    <div className="mt-3">
      <form action={dispatch} className="space-y-2">
        <FormStatus state={state} />
        <SubmitButton>{replaces ? 'Make a new token (the old one stops working)' : 'Make a token'}</SubmitButton>
      </form>
      {token ? (
        <figure aria-label="Scrape config" className="mt-3">
          <figcaption className="text-sm font-medium text-warning-text">
            Put this in Prometheus&apos; scrape config now: the token is not shown again.
          </figcaption>
          <pre className="mt-2 overflow-x-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100">
            {`scrape_configs:
  - job_name: lifeline
    scheme: ${new URL(url).protocol.replace(':', '')}
    static_configs:
      - targets: ['${new URL(url).host}']
    authorization:
      type: Bearer
      credentials: ${token}`}
          </pre>
        </figure>
      ) : null}
    </div>
  );
}
