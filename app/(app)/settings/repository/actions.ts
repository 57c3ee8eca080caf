'use server';

import path from 'node:path';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';

import { type ActionState, formAction } from '@/lib/auth/action';
import { audit } from '@/lib/control/audit';
import { addCopyRepository, copyRepository, removeCopyRepository } from '@/lib/control/copies';
import { attachRepository, repositoryInfo } from '@/lib/control/repository';
import type { S3Keys } from '@/lib/control/s3-credentials';
import { enqueueRepositoryJob } from '@/lib/control/job-queue';
import { syncSchedules } from '@/lib/control/scheduler';
import { refreshSnapshots } from '@/lib/control/snapshot-cache';
import { S3Storage, parseS3Location } from '@/lib/engine/repository/s3-storage';

const passphrase = z.string().min(1, 'Give the passphrase').max(1000);

const directorySchema = z.object({
  kind: z.literal('directory').default('directory'),
  location: z
    .string()
    .trim()
    .min(1, 'Give the repository directory')
    .refine((p) => path.isAbsolute(p), 'Give an absolute path, starting with /'),
  passphrase,
});

const s3Schema = z.object({
  kind: z.literal('s3'),
  intent: z.enum(['test', 'attach']).default('attach'),
  endpoint: z
    .string()
    .trim()
    .max(500)
    .regex(/^https?:\/\/[^/?#\s]+$/, 'Give the endpoint as http(s)://host[:port], nothing after it'),
  bucket: z
    .string()
    .trim()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'A bucket name is 3 to 63 lowercase letters, digits, dots and hyphens',
    ),
  prefix: z
    .string()
    .trim()
    .max(500)
    .regex(/^[A-Za-z0-9._/-]*$/, 'A prefix holds letters, digits and . _ - /')
    .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'A prefix may not hold . or .. parts')
    .default(''),
  accessKeyId: z
    .string()
    .trim()
    .min(1, 'Give the access key id')
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'An access key id is printable characters without spaces'),
  secretAccessKey: z
    .string()
    .min(1, 'Give the secret access key')
    .max(500)
    .regex(/^[\x21-\x7e]+$/, 'A secret key is printable characters without spaces'),
  // The passphrase is not needed to test the connection.
  passphrase: z.string().max(1000).default(''),
});

const attachSchema = z.union([s3Schema, directorySchema]);

type Where = z.infer<typeof attachSchema>;

/** The location the form names, with its S3 keys. */
function locationOf(input: Where): { location: string; keys?: S3Keys } {
  if (input.kind !== 's3') return { location: input.location };
  const prefix = input.prefix.replace(/^\/+|\/+$/g, '');
  return {
    location: `s3:${input.endpoint}/${input.bucket}${prefix ? `/${prefix}` : ''}`,
    keys: { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey },
  };
}

/** The connection test: writes, reads and deletes a probe object in the bucket. */
async function testConnection(location: string, bucket: string, keys: S3Keys): Promise<ActionState> {
  try {
    const probe = await new S3Storage(parseS3Location(location), { credentials: keys, maxAttempts: 2 }).probe();
    return {
      ok: true,
      data: undefined,
      message: `The connection works: wrote, read and deleted a probe object in ${bucket}${probe.bucketCreated ? ' (the bucket was created)' : ''}${probe.lock ? `; the bucket keeps every object ${probe.lock.days} days (object lock, ${probe.lock.mode})` : ''}.`,
    };
  } catch (err) {
    return { ok: false, error: `The connection test failed: ${(err as Error).message}` };
  }
}

export const attach = formAction(attachSchema, 'configure', async (input, user) => {
  const { location, keys } = locationOf(input);
  if (input.kind === 's3') {
    if (input.intent === 'test') return testConnection(location, input.bucket, keys!);
    if (!input.passphrase)
      return { ok: false, error: 'Check the fields marked below.', fieldErrors: { passphrase: 'Give the passphrase' } };
  }
  const result = await attachRepository(location, input.passphrase, keys);
  audit({
    username: user!.username,
    action: 'attach repository',
    target: location,
    ok: result.ok,
    detail: result.ok ? undefined : result.message,
  });
  if (!result.ok) {
    // In S3, what is not a repository is the bucket (or prefix) named.
    const field = input.kind === 's3' && result.field === 'location' ? 'bucket' : result.field;
    return field
      ? { ok: false, error: 'Check the fields marked below.', fieldErrors: { [field]: result.message } }
      : { ok: false, error: `The repository could not be opened: ${result.message}` };
  }
  await refreshSnapshots(repositoryInfo()!);
  revalidatePath('/', 'layout');
  return { ok: true, data: undefined, message: `Attached ${location}.` };
});

const copyName = z
  .string()
  .trim()
  .min(2, 'At least 2 characters')
  .max(60, 'At most 60 characters')
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'Letters, digits, dot, dash and underscore; start with a letter or digit');

// Without a passphrase a new repository is made there, with the recovery kit's.
const addCopySchema = z.union([
  s3Schema.extend({ name: copyName }),
  directorySchema.extend({ name: copyName, passphrase: z.string().max(1000).default('') }),
]);

export const addCopyTarget = formAction(addCopySchema, 'configure', async (input, user) => {
  const { location, keys } = locationOf(input);
  if (input.kind === 's3' && input.intent === 'test') return testConnection(location, input.bucket, keys!);
  const result = await addCopyRepository({ name: input.name, location, passphrase: input.passphrase, s3: keys });
  audit({
    username: user!.username,
    action: 'add repository for copies',
    target: `${input.name} (${location})`,
    ok: result.ok,
    detail: result.ok ? (result.created ? 'created with the recovery kit’s passphrase' : 'existing') : result.message,
  });
  if (!result.ok) {
    const field = input.kind === 's3' && result.field === 'location' ? 'bucket' : result.field;
    return field
      ? { ok: false, error: 'Check the fields marked below.', fieldErrors: { [field]: result.message } }
      : { ok: false, error: `The repository could not be added: ${result.message}` };
  }
  revalidatePath('/', 'layout');
  return {
    ok: true,
    data: undefined,
    message: `Added ${input.name}${result.created ? ', a new repository that the recovery kit’s passphrase opens' : ''}. Choose it under a plan’s Copy to.`,
  };
});

export const removeCopyTarget = formAction(
  z.object({ id: z.coerce.number().int().positive(), confirm: z.string().max(100).default('') }),
  'configure',
  async ({ id, confirm }, user) => {
    const target = copyRepository(id);
    if (!target) return { ok: false, error: 'That repository for copies no longer exists.' };
    if (confirm !== target.name) return { ok: false, error: `Type ${target.name} to confirm.` };
    removeCopyRepository(id);
    syncSchedules();
    audit({ username: user!.username, action: 'remove repository for copies', target: target.name, ok: true });
    revalidatePath('/', 'layout');
    return {
      ok: true,
      data: undefined,
      message: `${target.name} removed: plans no longer copy into it; what it holds stays there.`,
    };
  },
);

/** The repository the page showed: a prune or verify asked for from a page older than a change of repository is
 *  refused rather than run on another. */
const shownRepository = z.string().max(2000);

function changedRepository(location: string): string | null {
  const repo = repositoryInfo();
  if (!repo) return 'No repository is configured.';
  return repo.location === location ? null : 'The repository changed since this page was shown: reload it.';
}

const verifySchema = z.object({
  location: shownRepository,
  readDataPercent: z.coerce.number().int().min(0).max(100).default(0),
});

/** Queues a verify of the repository (its structure; with a share of the data read back if asked). */
export const verifyNow = formAction(verifySchema, 'configure', async ({ location, readDataPercent }, user) => {
  const changed = changedRepository(location);
  if (changed) return { ok: false, error: changed };
  const job = enqueueRepositoryJob('verify', user!.username, { readDataPercent });
  audit({
    username: user!.username,
    action: 'verify now',
    target: 'repository',
    ok: true,
    detail: job.merged ? `job ${job.id} was queued already` : `reading back ${readDataPercent} % of the data`,
  });
  return { ok: true, data: { jobIds: [job.id] }, message: `Verify job ${job.id} queued.` };
});

/** Queues a prune of the repository: the data no snapshot uses goes (what a snapshot uses is never touched). */
export const pruneNow = formAction(z.object({ location: shownRepository }), 'configure', async ({ location }, user) => {
  const changed = changedRepository(location);
  if (changed) return { ok: false, error: changed };
  const job = enqueueRepositoryJob('prune', user!.username);
  audit({
    username: user!.username,
    action: 'prune now',
    target: 'repository',
    ok: true,
    detail: job.merged ? `job ${job.id} was queued already` : undefined,
  });
  return { ok: true, data: { jobIds: [job.id] }, message: `Prune job ${job.id} queued.` };
});
