'use client';

import { FormStatus, useForm } from '@/components/form';

import { rotateCredentials } from '../actions';
import { AgentConfig } from '../register-node-form';

/** Issues new credentials (the old ones stop working at once) and shows the new agent config once. */
export function RotateCredentialsForm({ nodeId }: { nodeId: string }) {
  const { state, dispatch } = useForm(rotateCredentials);
  return (
    <section aria-label="Credentials" className="mt-8">
      <h2 className="font-medium">Credentials</h2>
      <form action={dispatch} className="mt-2 flex items-center gap-3">
        <input type="hidden" name="nodeId" value={nodeId} />
        <button type="submit" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50">
          Rotate credentials
        </button>
        <FormStatus state={state} />
      </form>
      {state?.ok && state.data ? <AgentConfig config={(state.data as { config: string }).config} /> : null}
    </section>
  );
}
