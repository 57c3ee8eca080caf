import type { Metadata } from 'next';
import { ActionButton } from '@/components/action-button';
import { requireUser } from '@/lib/auth/session';
import { recoveryKitText } from '@/lib/control/recovery-kit';

import { acknowledge } from './actions';

export const metadata: Metadata = { title: 'Recovery kit' };

export default async function RecoveryKitPage() {
  await requireUser('configure');
  const text = recoveryKitText();
  return (
    <main className="mx-auto max-w-3xl p-6">
      <h1 className="text-2xl font-semibold">Recovery kit</h1>
      {text ? (
        <>
          <p className="mt-2 text-sm text-foreground">
            Save this now, somewhere other than this machine. It is shown until you confirm, and never again.
          </p>
          <figure aria-label="Recovery kit">
            <pre className="mt-4 whitespace-pre-wrap rounded bg-slate-900 p-4 text-sm text-slate-100 [overflow-wrap:anywhere]">
              {text}
            </pre>
          </figure>
          <div className="mt-4 flex items-center gap-4">
            <a
              href="/api/recovery-kit"
              className="rounded-md border border-border bg-card px-3 py-1.5 text-sm font-medium hover:bg-muted"
            >
              Download recovery kit
            </a>
            <ActionButton action={acknowledge} fields={{}} label="I have saved it" />
          </div>
        </>
      ) : (
        <p className="mt-2 text-sm text-foreground">The recovery kit was saved. It is not shown again.</p>
      )}
    </main>
  );
}
