'use server';

import { eq } from 'drizzle-orm';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';

import { formAction } from '@/lib/auth/action';
import { withoutPassword } from '@/lib/format';
import { db } from '@/lib/db/client';
import { notificationChannels } from '@/lib/db/schema';
import { audit } from '@/lib/control/audit';
import { deliver, smtpConfigured } from '@/lib/control/notify';

const webhookSchema = z.object({
  url: z
    .string()
    .trim()
    .url('Give a full URL, such as https://hooks.example.com/lifeline')
    .refine((u) => !URL.canParse(u) || /^https?:$/.test(new URL(u).protocol), 'Only http and https URLs'),
  /** A checkbox: on when the webhook may reach this machine or the local network. */
  allowPrivate: z.literal('on').optional(),
});

export const addWebhook = formAction(webhookSchema, 'configure', async ({ url, allowPrivate }, user) => {
  const allow = allowPrivate === 'on';
  db()
    .insert(notificationChannels)
    .values({ kind: 'webhook', target: url, createdAt: Date.now(), allowPrivate: allow })
    .run();
  audit({
    username: user!.username,
    action: 'add webhook',
    target: new URL(url).host,
    ok: true,
    detail: allow ? 'may reach private and local addresses' : undefined,
  });
  revalidatePath('/settings/notifications');
  return { ok: true, data: undefined, message: 'Webhook added.' };
});

export const sendTest = formAction(
  z.object({ channelId: z.coerce.number().int().positive() }),
  'configure',
  async ({ channelId }, user) => {
    const channel = db().select().from(notificationChannels).where(eq(notificationChannels.id, channelId)).get();
    if (!channel) return { ok: false, error: 'That channel no longer exists.' };
    const delivered = await deliver(channel, { type: 'test', by: user!.username });
    revalidatePath('/settings/notifications');
    return delivered
      ? { ok: true, data: undefined, message: 'Delivered.' }
      : { ok: false, error: 'Not delivered: see the delivery log below.' };
  },
);

export const addEmail = formAction(
  z.object({ address: z.email('Give an email address') }),
  'configure',
  async ({ address }, user) => {
    if (!smtpConfigured())
      return { ok: false, error: 'Email needs SMTP: set LIFELINE_SMTP_URL and LIFELINE_SMTP_FROM.' };
    db().insert(notificationChannels).values({ kind: 'email', target: address, createdAt: Date.now() }).run();
    audit({ username: user!.username, action: 'add email notifications', target: address, ok: true });
    revalidatePath('/settings/notifications');
    return { ok: true, data: undefined, message: 'Email address added.' };
  },
);

/** Stops sending to a channel; its delivery log goes with it. */
export const removeChannel = formAction(
  z.object({ channelId: z.coerce.number().int().positive() }),
  'configure',
  async ({ channelId }, user) => {
    const channel = db().select().from(notificationChannels).where(eq(notificationChannels.id, channelId)).get();
    if (!channel) return { ok: false, error: 'That channel no longer exists.' };
    db().delete(notificationChannels).where(eq(notificationChannels.id, channelId)).run();
    audit({
      username: user!.username,
      action: `remove ${channel.kind}`,
      target: withoutPassword(channel.target),
      ok: true,
    });
    revalidatePath('/settings/notifications');
    return { ok: true, data: undefined, message: 'Removed.' };
  },
);
