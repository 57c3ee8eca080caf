'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { addSource } from './actions';
import { SourcePolicyFields } from './source-policy-fields';

export function AddSourceForm({ plans, nodes }: { plans: { id: number; name: string }[]; nodes: string[] }) {
  const { state, dispatch, errors, values } = useForm(addSource);
  return (
    <form action={dispatch} className="grid gap-4 sm:grid-cols-2" aria-label="Add a source">
      <div className="sm:col-span-2">
        <FormStatus state={state} />
      </div>
      <Field
        label="Name"
        name="name"
        defaultValue={values?.name}
        error={errors?.name}
        hint="For example: app-uploads"
      />
      <div>
        <label htmlFor="source-kind" className="block text-sm font-medium text-foreground">
          Kind
        </label>
        <select
          id="source-kind"
          name="kind"
          defaultValue={values?.kind ?? 'directory'}
          className="mt-1 block w-full rounded-md border border-border px-3 py-2 text-sm"
        >
          <option value="directory">Directory</option>
          <option value="sqlite">SQLite database</option>
        </select>
      </div>
      <div>
        <label htmlFor="source-plan" className="block text-sm font-medium text-foreground">
          Plan
        </label>
        <select
          id="source-plan"
          name="plan"
          defaultValue={values?.plan ?? 'new'}
          className="mt-1 block w-full rounded-md border border-border px-3 py-2 text-sm"
        >
          <option value="new">A new plan with the settings below</option>
          {plans.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
        {errors?.plan ? (
          <p className="mt-1 text-sm text-destructive-text">{errors.plan}</p>
        ) : (
          <p className="mt-1 text-sm text-muted-foreground">An existing plan brings its own settings.</p>
        )}
      </div>
      {nodes.length > 0 ? (
        <div>
          <label htmlFor="source-node" className="block text-sm font-medium text-foreground">
            Node
          </label>
          <select
            id="source-node"
            name="node"
            defaultValue={values?.node ?? 'local'}
            className="mt-1 block w-full rounded-md border border-border px-3 py-2 text-sm"
          >
            <option value="local">This machine (the dashboard’s)</option>
            {nodes.map((n) => (
              <option key={n} value={n}>
                {n} (backed up by its agent)
              </option>
            ))}
          </select>
          {errors?.node ? <p className="mt-1 text-sm text-destructive-text">{errors.node}</p> : null}
        </div>
      ) : null}
      <Field
        label="Path"
        name="path"
        defaultValue={values?.path}
        error={errors?.path}
        hint="Absolute path on the machine the source is on"
      />
      <SourcePolicyFields values={values ?? {}} errors={errors} />
      <div className="sm:col-span-2 sm:w-48">
        <SubmitButton>Add source</SubmitButton>
      </div>
    </form>
  );
}
