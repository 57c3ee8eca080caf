'use server';

import path from 'node:path';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { audit } from '@/lib/control/audit';
import { attachRepository, repositoryInfo } from '@/lib/control/repository';
import { refreshSnapshots } from '@/lib/control/snapshot-cache';

const attachSchema = z.object({
  location: z
    .string()
    .trim()
    .min(1, 'Give the repository directory')
    .refine((p) => path.isAbsolute(p), 'Give an absolute path, starting with /'),
  passphrase: z.string().min(1, 'Give the passphrase').max(1000),
});

export const attach = formAction(attachSchema, 'configure', async ({ location, passphrase }, user) => {
  const result = await attachRepository(location, passphrase);
  audit({
    username: user!.username,
    action: 'attach repository',
    target: location,
    ok: result.ok,
    detail: result.ok ? undefined : result.message,
  });
  if (!result.ok) {
    return result.field
      ? { ok: false, error: 'Check the fields marked below.', fieldErrors: { [result.field]: result.message } }
      : { ok: false, error: `The repository could not be opened: ${result.message}` };
  }
  await refreshSnapshots(repositoryInfo()!);
  revalidatePath('/', 'layout');
  return { ok: true, data: undefined, message: `Attached ${location}.` };
});
