// 06.3: what a node reports of a backup is checked against the repository. The node here is a rogue one: a test
// helper that answers the agent's signed protocol with the real credentials but lies about the snapshot it made,
// naming another source's real snapshot, one that is not there, or an old one of its own.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { runBackupJob } from './support/control-plane';

process.env.LIFELINE_DATA_DIR = tempDir('node-report');

const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

/** What the rogue agent will claim its next backup produced. */
let claim: { id: string; source: string } = { id: '', source: '' };

async function rogueAgent(secret: () => string): Promise<string> {
  const { verifyRequest, signResponse, NonceCache, AUTH_HEADERS } = await import('@/lib/engine/nodes/signed-request');
  const nonces = new NonceCache();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = { get: (n: string) => (req.headers[n] as string | undefined) ?? null };
      const auth = verifyRequest(headers, req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks), secret, nonces);
      if (!auth.ok) return void res.writeHead(401).end();
      const job = {
        id: 'job-1',
        kind: 'backup',
        status: 'succeeded',
        progress: null,
        error: null,
        result: {
          id: claim.id,
          source: claim.source,
          summary: { files: 1, dirs: 0, bytes: 1, newBytes: 1, startedAt: new Date().toISOString(), skipped: 0 },
        },
      };
      const text = JSON.stringify(job);
      res.writeHead(200, { [AUTH_HEADERS.signature]: signResponse(auth.secret, auth.nonce, 200, text) }).end(text);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('06.3 the dashboard does not take a node’s word for its backups', () => {
  let sourceId: number;
  let otherSnapshot: string;
  let ownOldSnapshot: string;

  beforeAll(async () => {
    const { ensureRepository } = await import('@/lib/control/repository');
    const { registerNode } = await import('@/lib/control/node-registry');
    const { db } = await import('@/lib/db/client');
    const { nodes, plans, sources } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const { openRepository, runBackup } = await import('@/lib/engine');
    const repoInfo = await ensureRepository();
    let secret = '';
    const url = await rogueAgent(() => secret);
    const { node, credentials } = await registerNode({
      name: 'rogue-1',
      agentUrl: url,
      serviceHost: '127.0.0.1',
      servicePort: 9,
    });
    secret = credentials.secret;
    expect(db().select().from(nodes).where(eq(nodes.id, node.id)).get()).toBeTruthy();
    const plan = db().insert(plans).values({ name: 'rogue-plan', createdAt: Date.now() }).returning().get();
    sourceId = db()
      .insert(sources)
      .values({
        planId: plan.id,
        node: 'rogue-1',
        name: 'files',
        kind: 'directory',
        path: '/srv',
        createdAt: Date.now(),
      })
      .returning()
      .get().id;
    // Real snapshots in the node's repository (written with the control plane's key to it): another source's, and
    // an old one of the rogue node's own source.
    const { nodeRepositoryLocation } = await import('@/lib/control/tenants');
    const repo = await openRepository(nodeRepositoryLocation(node.id), readFileSync(repoInfo.passwordFile, 'utf8'));
    const dir = path.join(tempDir('node-report-src'), 'data');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.txt'), 'payroll');
    otherSnapshot = (await runBackup(repo, { paths: [dir], node: 'local', sourceName: 'payroll', tags: ['job-9999'] }))
      .id;
    ownOldSnapshot = (await runBackup(repo, { paths: [dir], node: 'rogue-1', sourceName: 'files', tags: ['job-777'] }))
      .id;
  }, 60_000);

  async function backupClaiming(id: string, source: string) {
    const { db } = await import('@/lib/db/client');
    const { snapshots } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    claim = { id, source };
    const job = await runBackupJob(sourceId);
    return { job, recorded: db().select().from(snapshots).where(eq(snapshots.id, id)).get() };
  }

  it('refuses a report that names another source’s snapshot, and records nothing for the node', async () => {
    const { job, recorded } = await backupClaiming(otherSnapshot, 'rogue-1:files');
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/which is of local:payroll, not rogue-1:files/);
    expect(recorded?.sourceKey ?? null).not.toBe('rogue-1:files');
  });

  it('refuses a report that names a snapshot the node’s repository does not hold', async () => {
    const { job, recorded } = await backupClaiming('ab'.repeat(32), 'rogue-1:files');
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/which the node's repository does not hold/);
    expect(recorded).toBeUndefined();
  });

  it('refuses a report that passes off an older snapshot of its own source as this job’s', async () => {
    const { job } = await backupClaiming(ownOldSnapshot, 'rogue-1:files');
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/which another job wrote/);
  });
});
