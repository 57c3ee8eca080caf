import type { Metadata } from 'next';
import { eq } from 'drizzle-orm';
import { notFound } from 'next/navigation';

import { requireUser } from '@/lib/auth/session';
import { listCopyRepositories } from '@/lib/control/copies';
import { db } from '@/lib/db/client';
import { plans, sources } from '@/lib/db/schema';

import { ConfirmRemove } from '@/components/confirm-remove';

import { removePlan, removeSource } from '../../actions';
import { EditPlanForm } from './edit-plan-form';

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  await requireUser('configure');
  const id = Number((await params).id);
  const plan = Number.isInteger(id)
    ? db().select({ name: plans.name }).from(plans).where(eq(plans.id, id)).get()
    : undefined;
  return { title: plan ? `Plan ${plan.name}` : 'No such plan' };
}

export default async function PlanPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser('configure');
  const id = Number((await params).id);
  const plan = Number.isInteger(id) ? db().select().from(plans).where(eq(plans.id, id)).get() : undefined;
  if (!plan) notFound();
  const members = db().select().from(sources).where(eq(sources.planId, plan.id)).orderBy(sources.name).all();
  const {
    schedule,
    timezone,
    rpoTargetMinutes,
    excludes,
    keepLast,
    keepDaily,
    preCommand,
    postCommand,
    commandTimeoutSeconds,
    copyRepositoryId,
    copySchedule,
  } = plan;
  const copyTargets = listCopyRepositories().map(({ id, name }) => ({ id, name }));
  return (
    <main className="mx-auto max-w-4xl p-6">
      <h1 className="text-2xl font-semibold">Plan {plan.name}</h1>
      <p className="mt-1 text-sm text-muted-foreground">
        Protects: {members.map((m) => `${m.name} (${m.node}:${m.path})`).join(', ') || 'no source yet'}
      </p>
      {plan.builtIn ? null : (
        <section aria-label="Remove" className="mt-4">
          {members.map((m) => (
            <ConfirmRemove
              key={m.id}
              action={removeSource}
              fields={{ id: String(m.id) }}
              name={m.name}
              label={`Remove source ${m.name}`}
              explain="Its schedule ends; its snapshots stay in the repository (forget removes them)."
            />
          ))}
          {members.length === 0 ? (
            <ConfirmRemove
              action={removePlan}
              fields={{ id: String(plan.id) }}
              name={plan.name}
              label={`Remove plan ${plan.name}`}
              explain="The plan protects nothing: it goes, with its schedule."
            />
          ) : null}
        </section>
      )}
      <section className="mt-6 rounded-lg border border-border bg-card p-6">
        <EditPlanForm
          planId={plan.id}
          current={{
            schedule,
            timezone,
            rpoTargetMinutes,
            excludes,
            keepLast,
            keepDaily,
            preCommand,
            postCommand,
            commandTimeoutSeconds,
            copyRepositoryId: copyRepositoryId ?? '',
            copySchedule,
          }}
          copyTargets={copyTargets}
        />
      </section>
    </main>
  );
}
