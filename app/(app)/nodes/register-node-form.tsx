'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { registerNodeAction } from './actions';

/** Registers a node; its agent config (with the credentials) is shown once. */
export function RegisterNodeForm() {
  const { state, dispatch, errors, values } = useForm(registerNodeAction);
  return (
    <section aria-label="Register a node" className="mt-8 max-w-xl">
      <h2 className="text-lg font-medium">Register a node</h2>
      <form action={dispatch} className="mt-3 space-y-3">
        <Field label="Name" name="name" required defaultValue={values?.name} error={errors?.name} />
        <Field
          label="Agent address"
          name="agentUrl"
          required
          placeholder="http://10.0.0.5:7700"
          defaultValue={values?.agentUrl}
          error={errors?.agentUrl}
        />
        <Field
          label="Service host"
          name="serviceHost"
          required
          defaultValue={values?.serviceHost ?? '127.0.0.1'}
          error={errors?.serviceHost}
        />
        <Field
          label="Service port"
          name="servicePort"
          required
          inputMode="numeric"
          defaultValue={values?.servicePort}
          error={errors?.servicePort}
        />
        <FormStatus state={state} />
        <SubmitButton>Register node</SubmitButton>
      </form>
      {state?.ok && state.data ? <AgentConfig config={(state.data as { config: string }).config} /> : null}
    </section>
  );
}

export function AgentConfig({ config }: { config: string }) {
  return (
    <div className="mt-4">
      <p className="text-sm font-medium text-warning-text">
        Save this as the agent’s config file now (mode 600): its credentials are not shown again. Complete the service
        section, then run `npx lifeline agent --config FILE` on the node.
      </p>
      <figure aria-label="Agent config">
        <pre className="mt-2 overflow-x-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100">{config}</pre>
      </figure>
    </div>
  );
}
