'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { audit } from '@/lib/control/audit';
import { forgetEtcdSettings, saveEtcdSettings } from '@/lib/control/etcd';

const etcdUrl = z.url({ protocol: /^https?$/, error: 'Each address is an http:// or https:// URL of an etcd member' });

const coordinationSchema = z.object({
  endpoints: z
    .string()
    .trim()
    .min(1, 'Give at least one etcd member’s address')
    .max(2000)
    .transform((text) => text.split(/[\s,]+/).filter(Boolean))
    .pipe(z.array(etcdUrl).min(1).max(16, 'At most 16 members')),
  root: z
    .string()
    .trim()
    .max(200)
    .regex(/^\/[\w./-]*\/$/, 'A prefix that starts and ends with /, such as /lifeline/'),
  rootPassword: z.string().max(256),
});

export const saveCoordination = formAction(coordinationSchema, 'configure', async (input, user) => {
  const result = await saveEtcdSettings({
    endpoints: input.endpoints,
    root: input.root,
    rootPassword: input.rootPassword || null,
  });
  audit({
    username: user!.username,
    action: 'etcd settings',
    target: input.endpoints.join(','),
    ok: result.ok,
    detail: result.ok ? (input.rootPassword ? 'with authentication' : 'without authentication') : result.error,
  });
  revalidatePath('/settings/coordination');
  return result.ok
    ? { ok: true, data: undefined, message: 'etcd answered: groups can now move there (Nodes).' }
    : { ok: false, error: result.error };
});

export const forgetCoordination = formAction(z.object({}), 'configure', async (_input, user) => {
  const result = forgetEtcdSettings();
  audit({
    username: user!.username,
    action: 'forget etcd settings',
    ok: result.ok,
    detail: result.ok ? undefined : result.error,
  });
  revalidatePath('/settings/coordination');
  return result.ok ? { ok: true, data: undefined, message: 'etcd is forgotten.' } : { ok: false, error: result.error };
});
