// 10.5: a webhook is no way into the local network. A name that resolves to a private address is refused at the
// connection (not before it, where a second lookup could answer differently), at once and without retries; an
// admin's leave on the channel lets it through.
import http from 'node:http';

import { afterAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { listen, stopControlPlaneParts } from './support/control-plane';

process.env.LIFELINE_DATA_DIR = tempDir('webhook-address');

afterAll(stopControlPlaneParts);

describe('10.5 webhooks and private addresses', () => {
  it('10.5 a webhook to a name that resolves to this machine is refused at once, nothing sent; allowed, it is delivered', async () => {
    const { deliver } = await import('@/lib/control/notify');
    const { db } = await import('@/lib/db/client');
    const { deliveries, notificationChannels } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    let received = 0;
    const url = await listen(
      http.createServer((req, res) => {
        received++;
        req.resume();
        res.writeHead(200).end();
      }),
    );
    const byName = url.replace('127.0.0.1', 'localhost');
    const channel = (allowPrivate: boolean) =>
      db()
        .insert(notificationChannels)
        .values({ kind: 'webhook', target: byName, createdAt: Date.now(), allowPrivate })
        .returning()
        .get();
    const refused = channel(false);
    expect(await deliver(refused, { type: 'test', by: 'test' })).toBe(false);
    expect(received).toBe(0);
    const log = db().select().from(deliveries).where(eq(deliveries.channelId, refused.id)).get()!;
    expect(log).toMatchObject({ status: 'failed', attempts: 1 });
    expect(log.lastError).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a private or local address/);

    expect(await deliver(channel(true), { type: 'test', by: 'test' })).toBe(true);
    expect(received).toBe(1);
  });
});
