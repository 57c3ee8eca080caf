// Notifications: a failed job, an RPO breach and its recovery, a test. Each goes to every channel as a delivery,
// retried with backoff and logged.
import 'server-only';

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

import { eq } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

import { db } from '../db/client';
import { deliveries, notificationChannels, type NotificationChannel } from '../db/schema';
import { AddressRefused, isPrivateAddress, publicOnlyLookup } from './address-policy';
import { auditHead } from './audit';

export type NotificationEvent =
  | { type: 'job-failed'; job: number; source: string; error: string }
  | { type: 'rpo-breached'; source: string; ageMinutes: number; targetMinutes: number }
  | { type: 'rpo-recovered'; source: string }
  | {
      type: 'failover';
      group: string;
      kind: string;
      fromNode: string | null;
      toNode: string | null;
      ok: boolean;
      rtoMs: number | null;
      rpoMs: number | null;
      lostWrites: number | null;
      error: string | null;
    }
  | { type: 'drill-failed'; group: string; node: string; error: string }
  /** On etcd: nobody serves, and no standby may take over by itself (an admin may force a failover). */
  | { type: 'no-failover'; group: string; reasons: string[] }
  | { type: 'node-down'; node: string; since: number }
  | { type: 'shipping-stalled'; group: string; node: string; sinceSeconds: number; error: string | null }
  | { type: 'shipping-resumed'; group: string; node: string }
  /** A synchronous group's primary (`node`) has no standby acknowledging in time: it replicates asynchronously. */
  | { type: 'synchronous-degraded'; group: string; node: string }
  /** It has a synchronous standby (`node`) again. */
  | { type: 'synchronous-restored'; group: string; node: string }
  /** A node uploaded something the storage API refused for what it holds: a fault, or a compromised node. */
  | { type: 'node-refused'; node: string; object: string; reason: string }
  /** A node's upload went over its quota: its backup or shipping failed. */
  | { type: 'quota-exceeded'; node: string; reason: string }
  | { type: 'node-backups-failing'; node: string; failures: number; error: string }
  | { type: 'node-backups-resumed'; node: string }
  /** A backup's figures, read from the repository, are far from its source's usual ones (lib/anomaly.ts). */
  | { type: 'backup-anomaly'; source: string; job: number | null; snapshot: string; why: string }
  | { type: 'test'; by: string };

/** Waits between attempts: four tries in about half a minute. */
const BACKOFF_MS = [0, 1000, 5000, 20000];
const TIMEOUT_MS = 5000;

/** Null when delivered, else why not. Throws AddressRefused when the URL reaches a private or local address the
 *  channel was not allowed (no retry: it will not change). */
function postWebhook(url: string, payload: string, allowPrivate: boolean): Promise<string | null> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && net.isIP(host) && isPrivateAddress(host))
    return Promise.reject(
      new AddressRefused(`${host} is a private or local address: an admin may allow that for this webhook`),
    );
  const send = target.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        timeout: TIMEOUT_MS,
        ...(allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** LIFELINE_SMTP_URL (smtp://user:password@host:port, or smtps://) and LIFELINE_SMTP_FROM turn email on. */
export function smtpConfigured(): boolean {
  return Boolean(process.env.LIFELINE_SMTP_URL && process.env.LIFELINE_SMTP_FROM);
}

async function sendEmail(to: string, event: NotificationEvent): Promise<string | null> {
  if (!smtpConfigured()) return 'SMTP is not configured (LIFELINE_SMTP_URL, LIFELINE_SMTP_FROM)';
  const transport = nodemailer.createTransport({
    url: process.env.LIFELINE_SMTP_URL!,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  } as SMTPTransport.Options);
  try {
    await transport.sendMail({
      from: process.env.LIFELINE_SMTP_FROM,
      to,
      subject: subjectOf(event),
      text: `${subjectOf(event)}\n\n${JSON.stringify(event, null, 2)}\n`,
    });
    return null;
  } finally {
    transport.close();
  }
}

function subjectOf(event: NotificationEvent): string {
  switch (event.type) {
    case 'job-failed':
      return `Lifeline: job ${event.job} (${event.source}) failed`;
    case 'rpo-breached':
      return `Lifeline: ${event.source} is past its RPO target (${event.ageMinutes} min > ${event.targetMinutes} min)`;
    case 'rpo-recovered':
      return `Lifeline: ${event.source} is back within its RPO target`;
    case 'failover':
      return event.ok
        ? `Lifeline: ${event.group} failed over from ${event.fromNode ?? 'nothing'} to ${event.toNode} (RTO ${seconds(event.rtoMs)}, RPO ${seconds(event.rpoMs)}${event.lostWrites === null ? '' : `, ${event.lostWrites} writes lost`})`
        : `Lifeline: the ${event.kind} of ${event.group} failed: ${event.error}`;
    case 'drill-failed':
      return `Lifeline: the DR drill of ${event.group} on ${event.node} failed: ${event.error}`;
    case 'no-failover':
      return `Lifeline: nobody serves ${event.group}, and no standby may take over: ${event.reasons.join('; ')}. An admin may force a failover on the Nodes page`;
    case 'node-down':
      return `Lifeline: node ${event.node} is down`;
    case 'shipping-stalled':
      return `Lifeline: ${event.node} has shipped nothing to the standbys of ${event.group} for ${event.sinceSeconds} s${event.error ? `: ${event.error}` : ''}`;
    case 'shipping-resumed':
      return `Lifeline: ${event.node} ships to the standbys of ${event.group} again`;
    case 'synchronous-degraded':
      return `Lifeline: ${event.group} replicates asynchronously: no standby of its primary ${event.node} acknowledged in time, so a crash of ${event.node} may lose acknowledged writes`;
    case 'synchronous-restored':
      return `Lifeline: ${event.group} replicates synchronously again, to ${event.node}`;
    case 'node-refused':
      return `Lifeline: node ${event.node} sent ${event.object}, refused: ${event.reason}`;
    case 'quota-exceeded':
      return `Lifeline: node ${event.node} is over its storage quota, its upload was refused: ${event.reason}`;
    case 'node-backups-failing':
      return `Lifeline: the last ${event.failures} backups on node ${event.node} failed: ${event.error}`;
    case 'node-backups-resumed':
      return `Lifeline: backups on node ${event.node} succeed again`;
    case 'backup-anomaly':
      return `Lifeline: the backup of ${event.source} (snapshot ${event.snapshot.slice(0, 8)}) looks unlike its usual ones: ${event.why}. Retention keeps the snapshot before it`;
    case 'test':
      return `Lifeline: test notification from ${event.by}`;
  }
}

function seconds(ms: number | null): string {
  return ms === null ? 'unknown' : `${(ms / 1000).toFixed(1)} s`;
}

export function notify(event: NotificationEvent): void {
  for (const channel of db().select().from(notificationChannels).all()) void deliver(channel, event);
}

export async function deliver(channel: NotificationChannel, event: NotificationEvent): Promise<boolean> {
  // The audit log's head goes out with every notification: a copy the control plane cannot take back (10.7).
  const payload = JSON.stringify({ ...event, at: new Date().toISOString(), from: 'lifeline', auditHead: auditHead() });
  const row = db()
    .insert(deliveries)
    .values({ channelId: channel.id, event: event.type, payload, status: 'pending', createdAt: Date.now() })
    .returning()
    .get();
  for (let attempt = 0; attempt < BACKOFF_MS.length; attempt++) {
    if (BACKOFF_MS[attempt]) await new Promise((r) => setTimeout(r, BACKOFF_MS[attempt]));
    let error: string | null = null;
    try {
      error =
        channel.kind === 'email'
          ? await sendEmail(channel.target, event)
          : await postWebhook(channel.target, payload, channel.allowPrivate);
    } catch (err) {
      error = (err as Error).message;
      if (err instanceof AddressRefused) {
        db()
          .update(deliveries)
          .set({ attempts: attempt + 1, lastError: error, status: 'failed' })
          .where(eq(deliveries.id, row.id))
          .run();
        return false;
      }
    }
    if (error === null) {
      db()
        .update(deliveries)
        .set({ status: 'delivered', attempts: attempt + 1, deliveredAt: Date.now(), lastError: null })
        .where(eq(deliveries.id, row.id))
        .run();
      return true;
    }
    db()
      .update(deliveries)
      .set({
        attempts: attempt + 1,
        lastError: error,
        status: attempt + 1 === BACKOFF_MS.length ? 'failed' : 'pending',
      })
      .where(eq(deliveries.id, row.id))
      .run();
  }
  return false;
}
