import type { AddressInfo } from 'node:net';

import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';

process.env.LIFELINE_DATA_DIR = tempDir('control-email');

/** A real SMTP server on 127.0.0.1 that keeps every message it accepts. */
const received: { to: string[]; data: string }[] = [];
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, session, callback) {
    let data = '';
    stream.on('data', (d) => (data += d));
    stream.on('end', () => {
      received.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
      callback();
    });
  },
});

beforeAll(async () => {
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  process.env.LIFELINE_SMTP_URL = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  process.env.LIFELINE_SMTP_FROM = 'lifeline@example.test';
});
afterAll(() => new Promise<void>((r) => smtp.close(() => r())));

describe('email notifications', () => {
  it('a failed job is mailed to an email channel, and the delivery is logged', async () => {
    const { db } = await import('@/lib/db/client');
    const { deliveries, notificationChannels } = await import('@/lib/db/schema');
    const { deliver } = await import('@/lib/control/notify');
    const channel = db()
      .insert(notificationChannels)
      .values({ kind: 'email', target: 'oncall@example.test', createdAt: Date.now() })
      .returning()
      .get();
    const ok = await deliver(channel, { type: 'job-failed', job: 7, source: 'orders', error: 'disk full' });
    expect(ok).toBe(true);
    expect(received).toHaveLength(1);
    expect(received[0].to).toEqual(['oncall@example.test']);
    expect(received[0].data).toMatch(/Subject: Lifeline: job 7 \(orders\) failed/);
    expect(received[0].data).toContain('disk full');
    expect(db().select().from(deliveries).all()).toMatchObject([
      { status: 'delivered', attempts: 1, event: 'job-failed' },
    ]);
  });
});
