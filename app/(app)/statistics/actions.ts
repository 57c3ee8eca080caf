'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { audit } from '@/lib/control/audit';
import { sampleRepositoryStats } from '@/lib/control/repository-stats';

/** A click within this long of the last sampling shows that one's figures again. */
const REUSE_MS = 15_000;

/** Samples every repository's statistics now (they are sampled every hour and after each prune). */
export const sampleStatsNow = formAction(z.object({}), 'backup', async (_input, user) => {
  const { sampled, failed } = await sampleRepositoryStats(REUSE_MS);
  revalidatePath('/statistics');
  audit({
    username: user!.username,
    action: 'sample statistics',
    target: 'repositories',
    ok: failed.length === 0,
    detail: failed.map((f) => `${f.repository}: ${f.error}`).join('; ') || undefined,
  });
  if (failed.length > 0)
    return { ok: false, error: `Not read: ${failed.map((f) => `${f.repository} (${f.error})`).join(', ')}.` };
  return {
    ok: true,
    data: undefined,
    message: `${sampled.length} ${sampled.length === 1 ? 'repository' : 'repositories'} sampled.`,
  };
});
