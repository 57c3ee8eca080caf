'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { addUser } from './actions';

export function AddUserForm() {
  const { state, dispatch, errors, values } = useForm(addUser);
  return (
    <form action={dispatch} aria-label="Add a user" className="grid gap-4 sm:grid-cols-3">
      <div className="sm:col-span-3">
        <FormStatus state={state} />
      </div>
      <Field label="Username" name="username" defaultValue={values?.username} error={errors?.username} />
      <Field label="Password" name="password" type="password" autoComplete="new-password" error={errors?.password} />
      <div>
        <label htmlFor="user-role" className="block text-sm font-medium text-foreground">
          Role
        </label>
        <select
          id="user-role"
          name="role"
          defaultValue={values?.role ?? 'viewer'}
          className="mt-1 block w-full rounded-md border border-border px-3 py-2 text-sm"
        >
          <option value="viewer">Viewer: read only</option>
          <option value="operator">Operator: back up, restore elsewhere, cancel</option>
          <option value="admin">Admin: everything</option>
        </select>
        {errors?.role ? <p className="mt-1 text-sm text-destructive-text">{errors.role}</p> : null}
      </div>
      <div className="sm:w-40">
        <SubmitButton>Add user</SubmitButton>
      </div>
    </form>
  );
}
