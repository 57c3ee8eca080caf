'use client';

import { useActionState } from 'react';
import { useFormStatus } from 'react-dom';

import type { ActionState } from '@/lib/auth/action';

type State = ActionState<undefined>;

function Button({ label, tone }: { label: string; tone: 'primary' | 'danger' | 'link' }) {
  const { pending } = useFormStatus();
  const style =
    tone === 'primary'
      ? 'rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 disabled:opacity-60'
      : tone === 'danger'
        ? 'text-sm text-red-700 hover:underline disabled:opacity-60'
        : 'text-sm text-sky-700 hover:underline disabled:opacity-60';
  return (
    <button type="submit" disabled={pending} className={style}>
      {label}
    </button>
  );
}

/** A one-button form for a server action made with formAction: hidden fields in, an error or note out. */
export function ActionButton({
  action,
  fields,
  label,
  tone = 'primary',
}: {
  action: (state: State, form: FormData) => Promise<State>;
  fields: Record<string, string | number>;
  label: string;
  tone?: 'primary' | 'danger' | 'link';
}) {
  const [state, formAction] = useActionState(action, null);
  return (
    <form action={formAction} className="inline-flex items-center gap-2">
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <Button label={label} tone={tone} />
      {state && !state.ok ? (
        <span role="alert" className="text-sm text-red-700">
          {state.error}
        </span>
      ) : state?.ok && state.message ? (
        <span role="status" className="text-sm text-slate-600">
          {state.message}
        </span>
      ) : null}
    </form>
  );
}
