'use server';

import path from 'node:path';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { audit } from '@/lib/control/audit';
import { attachRepository, repositoryInfo } from '@/lib/control/repository';
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

export const attach = formAction(attachSchema, 'configure', async (input, user) => {
  let location: string;
  let keys: { accessKeyId: string; secretAccessKey: string } | undefined;
  if (input.kind === 's3') {
    const prefix = input.prefix.replace(/^\/+|\/+$/g, '');
    location = `s3:${input.endpoint}/${input.bucket}${prefix ? `/${prefix}` : ''}`;
    keys = { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey };
    if (input.intent === 'test') {
      try {
        const probe = await new S3Storage(parseS3Location(location), { credentials: keys, maxAttempts: 2 }).probe();
        return {
          ok: true,
          data: undefined,
          message: `The connection works: wrote, read and deleted a probe object in ${input.bucket}${probe.bucketCreated ? ' (the bucket was created)' : ''}${probe.lock ? `; the bucket keeps every object ${probe.lock.days} days (object lock, ${probe.lock.mode})` : ''}.`,
        };
      } catch (err) {
        return { ok: false, error: `The connection test failed: ${(err as Error).message}` };
      }
    }
    if (!input.passphrase)
      return { ok: false, error: 'Check the fields marked below.', fieldErrors: { passphrase: 'Give the passphrase' } };
  } else location = input.location;
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
