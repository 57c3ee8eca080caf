'use client';

import { FormStatus, useForm } from '@/components/form';

import { rotateCredentials } from '../actions';
import { AgentConfig } from '../register-node-form';
import { Button } from '@/components/ui/button';

/** Issues new credentials (the old ones stop working at once) and shows the new agent config once. */
export function RotateCredentialsForm({ nodeId }: { nodeId: string }) {
  const { state, dispatch } = useForm(rotateCredentials);
  return (
    <section aria-label="Credentials" className="mt-8">
      <h2 className="font-medium">Credentials</h2>
      <p className="mt-1 text-sm text-muted-foreground">
        Rotating issues a new secret and repository key and locks the old ones out at once, as you want for a node that
        may be compromised. Until its agent runs with the new config, the node is unreachable: if it is a primary, its
        group fails over.
      </p>
      <form action={dispatch} className="mt-2 flex items-center gap-3">
        <input type="hidden" name="nodeId" value={nodeId} />
        <Button type="submit" variant="outline">
          Rotate credentials
        </Button>
        <FormStatus state={state} />
      </form>
      {state?.ok && state.data ? <AgentConfig config={(state.data as { config: string }).config} /> : null}
    </section>
  );
}
