'use server';

import { existsSync, statSync } from 'node:fs';

import { eq } from 'drizzle-orm';
import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { z } from 'zod';

import { formAction, type ActionState } from '@/lib/auth/action';
import { absolutePath, excludePatterns, safeText } from '@/lib/input';
import { db } from '@/lib/db/client';
import { LOCAL_NODE, nodes, plans, SOURCE_KINDS, sources } from '@/lib/db/schema';
import { audit } from '@/lib/control/audit';
import { dismissFlag, flaggedBackups } from '@/lib/control/anomalies';
import { copyRepository } from '@/lib/control/copies';
import { cancelJob, enqueueBackup, sourceBusy } from '@/lib/control/job-queue';
import { isValidSchedule, isValidTimezone, syncSchedules } from '@/lib/control/scheduler';

const id = z.coerce.number().int().positive();

export const backUpNow = formAction(z.object({ sourceId: id }), 'backup', async ({ sourceId }, user) => {
  const source = db().select().from(sources).where(eq(sources.id, sourceId)).get();
  if (!source) return { ok: false, error: 'That source no longer exists.' };
  const job = enqueueBackup(sourceId, user!.username);
  audit({
    username: user!.username,
    action: 'back up now',
    target: source.name,
    ok: true,
    detail: job.merged ? `job ${job.id} was queued already` : undefined,
  });
  return {
    ok: true,
    data: { jobIds: [job.id] },
    message: job.merged ? `Backup job ${job.id} is queued already.` : `Backup job ${job.id} queued.`,
  };
});

export const cancel = formAction(z.object({ jobId: id }), 'cancel', async ({ jobId }, user) => {
  const ok = cancelJob(jobId);
  audit({ username: user!.username, action: 'cancel job', target: String(jobId), ok });
  return ok
    ? { ok: true, data: undefined, message: 'Cancelling…' }
    : { ok: false, error: 'That job is not running any more.' };
});

const count = z.coerce
  .number({ message: 'A whole number' })
  .int('A whole number')
  .min(0, 'Zero or more')
  .max(10_000, 'At most 10,000');

/** What a source's policy holds; the same fields when it is added and when it is edited. */
const policyFields = {
  excludes: excludePatterns,
  schedule: z
    .string()
    .trim()
    .default('')
    .refine(
      (s) => s === '' || isValidSchedule(s),
      'Not a cron expression of five fields, minute to weekday (for example 0 * * * * for hourly)',
    ),
  timezone: z
    .string()
    .trim()
    .default('')
    .refine(
      (tz) => tz === '' || isValidTimezone(tz),
      "Not a time zone (for example Europe/Paris); empty for the server's",
    ),
  rpoTargetMinutes: z.coerce
    .number({ message: 'A number of minutes' })
    .int('A whole number of minutes')
    .min(1, 'At least 1 minute')
    .max(60 * 24 * 90, 'At most 90 days'),
  keepLast: count,
  keepDaily: count,
  preCommand: safeText(1000).default(''),
  postCommand: safeText(1000).default(''),
  commandTimeoutSeconds: z.coerce
    .number({ message: 'A number of seconds' })
    .int('A whole number of seconds')
    .min(1, 'At least 1 second')
    .max(3600, 'At most an hour'),
  /** A repository for copies (Settings → Repository), or empty for none. */
  copyRepositoryId: z
    .union([z.literal('').transform(() => null), id])
    .default(null)
    .refine((r) => r === null || copyRepository(r) !== undefined, 'That repository for copies no longer exists'),
  copySchedule: z
    .string()
    .trim()
    .default('')
    .refine(
      (s) => s === '' || isValidSchedule(s),
      'Not a cron expression of five fields, minute to weekday (for example 30 2 * * * for 02:30 daily)',
    ),
};

const newSourceSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(2, 'At least 2 characters')
      .max(60, 'At most 60 characters')
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'Letters, digits, dot, dash and underscore; start with a letter or digit'),
    kind: z.enum(SOURCE_KINDS),
    /** An existing plan's id, or `new` for a plan of its own made from the policy fields. */
    plan: z.union([z.literal('new'), id]).default('new'),
    path: absolutePath,
    /** `local` (the dashboard's machine) or a registered node's name, whose agent backs the source up. */
    node: z.string().default(LOCAL_NODE),
    ...policyFields,
  })
  .superRefine((v, ctx) => {
    if (v.node !== LOCAL_NODE) {
      // The path is on the node: its agent reports a missing path when it backs up.
      if (!db().select().from(nodes).where(eq(nodes.name, v.node)).get())
        ctx.addIssue({ code: 'custom', path: ['node'], message: 'No such node' });
      return;
    }
    const st = existsSync(v.path) ? statSync(v.path) : null;
    if (!st) ctx.addIssue({ code: 'custom', path: ['path'], message: 'Nothing exists at this path' });
    else if (v.kind === 'directory' && !st.isDirectory())
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'This is not a directory' });
    else if (v.kind === 'sqlite' && !st.isFile())
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'This is not a database file' });
  });

export const backUpPlanNow = formAction(z.object({ planId: id }), 'backup', async ({ planId }, user) => {
  const plan = db().select().from(plans).where(eq(plans.id, planId)).get();
  if (!plan) return { ok: false, error: 'That plan no longer exists.' };
  const members = db().select().from(sources).where(eq(sources.planId, planId)).all();
  const jobIds = members.map((source) => enqueueBackup(source.id, user!.username).id);
  audit({
    username: user!.username,
    action: 'back up plan now',
    target: plan.name,
    ok: true,
    detail: members.map((m) => m.name).join(', '),
  });
  return {
    ok: true,
    data: { jobIds },
    message: `${members.length} backup job${members.length === 1 ? '' : 's'} queued.`,
  };
});

export const updatePlan = formAction(
  z.object({ planId: id, ...policyFields }),
  'configure',
  async ({ planId, ...policy }, user) => {
    const plan = db().select().from(plans).where(eq(plans.id, planId)).get();
    if (!plan) return { ok: false, error: 'That plan no longer exists.' };
    db().update(plans).set(policy).where(eq(plans.id, planId)).run();
    syncSchedules();
    revalidatePath('/backups');
    // Commands run on the machine as the server's user (or a node's agent): a change to them is written down whole.
    const commands = (['preCommand', 'postCommand'] as const)
      .filter((k) => policy[k] !== plan[k])
      .map(
        (k) =>
          `${k === 'preCommand' ? 'command before' : 'command after'} ${JSON.stringify(policy[k])} (was ${JSON.stringify(plan[k])})`,
      );
    audit({
      username: user!.username,
      action: 'change plan',
      target: plan.name,
      ok: true,
      detail: [
        `schedule ${policy.schedule || 'on demand'}, RPO ${policy.rpoTargetMinutes} min, keep last ${policy.keepLast}, daily ${policy.keepDaily}, ${copyText(policy)}`,
        ...commands,
      ].join('; '),
    });
    return { ok: true, data: undefined, message: `Plan ${plan.name} saved.` };
  },
);

function copyText(policy: { copyRepositoryId: number | null; copySchedule: string }): string {
  if (policy.copyRepositoryId === null) return 'no copies';
  const name = copyRepository(policy.copyRepositoryId)?.name ?? String(policy.copyRepositoryId);
  return `copies to ${name} ${policy.copySchedule ? `on ${policy.copySchedule}` : 'after each backup'}`;
}

export const addSource = formAction(
  newSourceSchema,
  'configure',
  async ({ name, kind, path: where, plan, node, ...policy }, user): Promise<ActionState> => {
    if (db().select().from(sources).where(eq(sources.name, name)).get()) {
      return {
        ok: false,
        error: 'Check the fields marked below.',
        fieldErrors: { name: 'A source with this name exists' },
      };
    }
    if (plan === 'new' && db().select().from(plans).where(eq(plans.name, name)).get()) {
      return {
        ok: false,
        error: 'Check the fields marked below.',
        fieldErrors: { name: 'A plan with this name exists: pick it under Plan' },
      };
    }
    if (plan !== 'new' && !db().select().from(plans).where(eq(plans.id, plan)).get()) {
      return {
        ok: false,
        error: 'Check the fields marked below.',
        fieldErrors: { plan: 'That plan no longer exists' },
      };
    }
    db()
      .$client.transaction(() => {
        const planId =
          plan === 'new'
            ? db()
                .insert(plans)
                .values({ name, ...policy, createdAt: Date.now() })
                .returning()
                .get().id
            : plan;
        db().insert(sources).values({ planId, name, kind, path: where, node, createdAt: Date.now() }).run();
      })
      .immediate();
    syncSchedules();
    revalidatePath('/backups');
    audit({
      username: user!.username,
      action: 'add source',
      target: name,
      ok: true,
      detail: node === LOCAL_NODE ? where : `${node}:${where}`,
    });
    return { ok: true, data: undefined, message: `Source ${name} added.` };
  },
);

const removeSchema = z.object({ id, confirm: z.string().max(100).default('') });

/** Stops protecting a source: its schedule ends with it; its snapshots stay in the repository (retention no longer
 *  trims them, forget can). Not a built-in source, and not while a job of it is queued or running. */
export const removeSource = formAction(removeSchema, 'configure', async ({ id: sourceId, confirm }, user) => {
  const source = db().select().from(sources).where(eq(sources.id, sourceId)).get();
  if (!source) return { ok: false, error: 'That source no longer exists.' };
  if (source.builtIn) return { ok: false, error: 'The control plane’s own source cannot be removed.' };
  if (confirm !== source.name) return { ok: false, error: `Type ${source.name} to confirm.` };
  if (sourceBusy(sourceId)) return { ok: false, error: 'A job of this source is queued or running: cancel it first.' };
  db().delete(sources).where(eq(sources.id, sourceId)).run();
  syncSchedules();
  revalidatePath('/backups');
  audit({ username: user!.username, action: 'remove source', target: source.name, ok: true });
  return { ok: true, data: undefined, message: `Source ${source.name} removed; its snapshots stay in the repository.` };
});

/** Removes a plan that protects nothing any more. */
export const removePlan = formAction(
  removeSchema,
  'configure',
  async ({ id: planId, confirm }, user): Promise<ActionState> => {
    const plan = db().select().from(plans).where(eq(plans.id, planId)).get();
    if (!plan) return { ok: false, error: 'That plan no longer exists.' };
    if (plan.builtIn) return { ok: false, error: 'The control plane’s own plan cannot be removed.' };
    if (confirm !== plan.name) return { ok: false, error: `Type ${plan.name} to confirm.` };
    if (db().select().from(sources).where(eq(sources.planId, planId)).get())
      return { ok: false, error: 'This plan still protects sources: remove them first.' };
    db().delete(plans).where(eq(plans.id, planId)).run();
    syncSchedules();
    revalidatePath('/backups');
    audit({ username: user!.username, action: 'remove plan', target: plan.name, ok: true });
    // Its page is gone with it.
    redirect('/backups');
  },
);

/** An admin checked a flagged backup (17.3) and found it sound: the flag goes, and with it the hold that kept the
 *  snapshot before it from retention. Confirmed by typing the source's name. */
export const dismissAnomaly = formAction(
  z.object({ id, confirm: z.string().max(100).default('') }),
  'configure',
  async ({ id: figuresId, confirm }, user) => {
    const flagged = flaggedBackups().find((f) => f.id === figuresId);
    if (!flagged) return { ok: false, error: 'That backup is not flagged any more.' };
    if (confirm !== flagged.source) return { ok: false, error: `Type ${flagged.source} to confirm.` };
    dismissFlag(figuresId, user!.username);
    revalidatePath('/');
    audit({
      username: user!.username,
      action: 'dismiss backup flag',
      target: flagged.source,
      ok: true,
      detail: `snapshot ${flagged.snapshotId.slice(0, 8)}: ${flagged.why}`,
    });
    return { ok: true, data: undefined, message: `The flag on ${flagged.source}'s backup is dismissed.` };
  },
);
