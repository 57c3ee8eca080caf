import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { waitFor } from './support/wait';

// The control plane on a real SQLite database in a temporary data directory.
process.env.LIFELINE_DATA_DIR = tempDir('control');

const received: Record<string, unknown>[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    received.push(JSON.parse(body));
    res.writeHead(200).end();
  });
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
});
afterAll(() => receiver.close());

describe('RPO watch', () => {
  it('notifies once when a source passes its target, and once when it is back within it', async () => {
    const { db } = await import('@/lib/db/client');
    const { notificationChannels, plans, snapshots, sources } = await import('@/lib/db/schema');
    const { checkRpo } = await import('@/lib/control/rpo-watch');
    // The receiver is on this machine: a webhook may reach it only with an admin's leave.
    db()
      .insert(notificationChannels)
      .values({ kind: 'webhook', target: url, createdAt: Date.now(), allowPrivate: true })
      .run();
    const plan = db()
      .insert(plans)
      .values({ name: 'hourly', rpoTargetMinutes: 60, createdAt: Date.now() })
      .returning()
      .get();
    db()
      .insert(sources)
      .values({ planId: plan.id, name: 'orders', kind: 'directory', path: '/srv/orders', createdAt: Date.now() })
      .run();
    const snapshot = (id: string, minutesAgo: number) => {
      const end = Date.now() - minutesAgo * 60_000;
      db()
        .insert(snapshots)
        .values({
          id,
          sourceKey: 'local:orders',
          time: end - 1000,
          endedAt: end,
          files: 1,
          bytes: 1,
          newBytes: 1,
          durationMs: 1000,
          skipped: 0,
        })
        .run();
    };

    snapshot('a'.repeat(64), 90);
    checkRpo();
    checkRpo();
    await waitFor('the rpo-breached notification', () => received.some((m) => m.type === 'rpo-breached'), 10_000);
    expect(received.filter((m) => m.type === 'rpo-breached')).toHaveLength(1);
    expect(received[0]).toMatchObject({ type: 'rpo-breached', source: 'orders', targetMinutes: 60, ageMinutes: 90 });

    snapshot('b'.repeat(64), 1);
    checkRpo();
    checkRpo();
    await waitFor('the rpo-recovered notification', () => received.some((m) => m.type === 'rpo-recovered'), 10_000);
    expect(received.filter((m) => m.type === 'rpo-recovered')).toHaveLength(1);
    expect(received.filter((m) => m.type === 'rpo-breached')).toHaveLength(1);
  });
});
