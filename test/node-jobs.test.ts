// A node backs up its own files and restores onto itself through its agent: the engine runs on the node, and the
// data reaches the repository through the control plane's append-only storage API, which refuses any delete.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AgentClient } from '@/lib/engine/nodes/agent-client';
import type { AgentJobInput, AgentJobView } from '@/lib/engine/nodes/agent-jobs';
import { HttpStorage } from '@/lib/engine/nodes/http-storage';
import { nodeRepositoryPassword } from '@/lib/engine/nodes/tenants';
import { openRepository, runBackup, runCopy } from '@/lib/engine';
import { Repository } from '@/lib/engine/repository/repository';
import { signConfig } from '@/lib/engine/repository/config';
import { serviceHealthy, startCluster, type Cluster } from './support/cluster';
import { waitFor } from './support/wait';

async function runJob(client: AgentClient, req: AgentJobInput): Promise<AgentJobView> {
  const { id } = await client.startJob(req);
  return waitFor(
    `the ${req.kind} job on the node to end`,
    async () => {
      const view = await client.job(id);
      return view.status === 'running' ? null : view;
    },
    30_000,
  );
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('jobs on a node', () => {
  let cluster: Cluster;
  let files: string;
  let backupId: string;

  beforeAll(async () => {
    cluster = await startCluster({ runPlanCommands: ['node-a'], restoreOtherSources: ['node-c'], nodes: 3 });
    files = path.join(cluster.dir, 'node-a-files');
    mkdirSync(path.join(files, 'conf'), { recursive: true });
    writeFileSync(path.join(files, 'conf', 'app.toml'), 'port = 8080\n');
    writeFileSync(path.join(files, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
  });
  afterAll(() => cluster?.stop());

  it('backs up the node’s files into the repository, readable with the repository passphrase alone', async () => {
    const [a] = cluster.nodes;
    const view = await runJob(a.direct, {
      kind: 'backup',
      paths: [files],
      sqlite: [],
      exclude: [],
      tags: ['t'],
      sourceName: 'files',
    });
    expect(view.status).toBe('succeeded');
    expect(view.result?.source).toBe('node-a:files');
    const repo = await openRepository(cluster.nodeRepository(cluster.nodes[0]), 'cluster repository passphrase');
    const snapshot = await repo.resolveSnapshot('latest', { source: 'node-a:files' });
    expect(snapshot.id).toBe(view.result?.id);
    backupId = snapshot.id;
    expect(snapshot.summary.files).toBe(2);
  });

  it('restores onto the node in place, verified, and brings its guarded service back', async () => {
    const [a] = cluster.nodes;
    await waitFor('node-a to become primary', () => cluster.coordinator.primaryNodeId === a.nodeId, 30_000);
    cluster.coordinator.update({ maintenance: true });
    const before = sha(path.join(files, 'big.bin'));
    writeFileSync(path.join(files, 'big.bin'), 'damaged');
    const pid = (await a.direct.status()).service.pid;
    const view = await runJob(a.direct, {
      kind: 'restore',
      snapshot: backupId,
      target: '/',
      include: [files],
      dryRun: false,
    });
    expect(view.error).toBeNull();
    expect(view.result?.verified).toBe(true);
    expect(sha(path.join(files, 'big.bin'))).toBe(before);
    const status = await a.direct.status();
    expect(status.service.state).toBe('running');
    expect(status.service.pid).not.toBe(pid);
    expect(await serviceHealthy(a.servicePort)).toBe(true);
    cluster.coordinator.update({ maintenance: false });
  });

  it('previews a restore on the node without changing anything', async () => {
    const [a] = cluster.nodes;
    writeFileSync(path.join(files, 'conf', 'app.toml'), 'port = 9090\n');
    const view = await runJob(a.direct, {
      kind: 'restore',
      snapshot: backupId,
      target: '/',
      include: [files],
      dryRun: true,
    });
    expect(view.error).toBeNull();
    expect(
      ((view.result?.entries ?? []) as { action: string; destination: string }[]).some(
        (e) => e.action === 'overwrite' && e.destination.endsWith('app.toml'),
      ),
    ).toBe(true);
    expect(readFileSync(path.join(files, 'conf', 'app.toml'), 'utf8')).toBe('port = 9090\n');
  });

  it('09.5 a restore elsewhere that is / once resolved (/proc/self/root, /proc/thread-self/root, a link to /) or a directory that holds files is refused on the node, and nothing is overwritten', async () => {
    const [a] = cluster.nodes;
    writeFileSync(path.join(files, 'conf', 'app.toml'), 'port = 7070\n');
    const toRoot = path.join(cluster.dir, 'to-root');
    symlinkSync('/', toRoot);
    const occupied = path.join(cluster.dir, 'occupied');
    mkdirSync(occupied);
    writeFileSync(path.join(occupied, 'keep.txt'), 'keep');
    for (const [target, why] of [
      ['/proc/self/root', /is \/ once resolved: that is a restore in place/],
      ['/proc/thread-self/root', /is \/ once resolved/],
      [toRoot, /is \/ once resolved/],
      [occupied, /is not empty/],
    ] as const) {
      const view = await runJob(a.direct, {
        kind: 'restore',
        snapshot: backupId,
        target,
        include: [files],
        dryRun: false,
      });
      expect({ target, status: view.status, error: view.error?.message }).toEqual({
        target,
        status: 'failed',
        error: expect.stringMatching(why),
      });
      expect(readFileSync(path.join(files, 'conf', 'app.toml'), 'utf8')).toBe('port = 7070\n');
    }
    expect(readFileSync(path.join(occupied, 'keep.txt'), 'utf8')).toBe('keep');
    expect(existsSync(path.join(occupied, files))).toBe(false);
    // An empty directory, reached through a link: written where the link leads.
    const empty = path.join(cluster.dir, 'empty');
    mkdirSync(empty);
    symlinkSync(empty, path.join(cluster.dir, 'to-empty'));
    const view = await runJob(a.direct, {
      kind: 'restore',
      snapshot: backupId,
      target: path.join(cluster.dir, 'to-empty'),
      include: [files],
      dryRun: false,
    });
    expect(view.status).toBe('succeeded');
    expect(readFileSync(path.join(empty, files, 'conf', 'app.toml'), 'utf8')).toBe('port = 8080\n');
  });

  it('09.3 an agent restores only its own sources’ snapshots, unless its own config allows others', async () => {
    const [a, b, c] = cluster.nodes;
    const into = (name: string) => path.join(cluster.dir, `other-${name}`);
    // node-a's snapshot is not in node-b's repository at all.
    const absent = await runJob(b.direct, { kind: 'restore', snapshot: backupId, target: into('b'), dryRun: false });
    expect(absent.status).toBe('failed');
    expect(existsSync(into('b'))).toBe(false);
    // Copied there by the control plane (the way a dead node's data reaches its replacement), it is still refused.
    const copyInto = async (node: typeof b) => {
      const from = await openRepository(cluster.nodeRepository(a), 'cluster repository passphrase');
      const to = await openRepository(cluster.nodeRepository(node), 'cluster repository passphrase');
      return (await runCopy(from, to, { ids: [backupId] })).snapshots[0].to;
    };
    const inB = await copyInto(b);
    const refused = await runJob(b.direct, { kind: 'restore', snapshot: inB, target: into('b'), dryRun: false });
    expect(refused.status).toBe('failed');
    expect(refused.error?.message).toMatch(
      /snapshot [0-9a-f]{8} is of node-a:files, not of node-b's own sources or its group's shipped data.*"restoreOtherSources": true/,
    );
    expect(existsSync(into('b'))).toBe(false);
    const preview = await runJob(b.direct, { kind: 'restore', snapshot: inB, target: into('b'), dryRun: true });
    expect(preview.status).toBe('failed');
    // node-c's config allows it: the path for moving a dead node's data to its replacement.
    const inC = await copyInto(c);
    const allowed = await runJob(c.direct, { kind: 'restore', snapshot: inC, target: into('c'), dryRun: false });
    expect(allowed.status).toBe('succeeded');
    expect(readFileSync(path.join(into('c'), files, 'conf', 'app.toml'), 'utf8')).toBe('port = 8080\n');
  });

  it('runs the plan’s commands around a backup on the node, and only where its config allows it', async () => {
    const [a, b] = cluster.nodes;
    const marks = path.join(cluster.dir, 'marks');
    const view = await runJob(a.direct, {
      kind: 'backup',
      paths: [files],
      sourceName: 'files',
      preCommand: `echo pre >> ${marks}`,
      postCommand: `echo post >> ${marks}`,
    });
    expect(view.error).toBeNull();
    expect(readFileSync(marks, 'utf8')).toBe('pre\npost\n');
    const failing = await runJob(a.direct, {
      kind: 'backup',
      paths: [files],
      sourceName: 'files',
      preCommand: 'exit 3',
    });
    expect(failing.error?.message).toMatch(/pre-backup command failed, nothing was backed up: exit code 3/);
    const refused = await runJob(b.direct, { kind: 'backup', paths: [files], sourceName: 'files', preCommand: 'true' });
    expect(refused.error?.message).toMatch(/does not run plan commands/);
  });

  it('ships the service’s other data paths with its databases, and the standby applies them', async () => {
    const [a, b] = cluster.nodes;
    await waitFor('node-a to become primary', () => cluster.coordinator.primaryNodeId === a.nodeId, 30_000);
    const source = path.join(cluster.dir, 'node-a', 'service', 'attachments');
    mkdirSync(path.join(source, '2026'), { recursive: true });
    writeFileSync(path.join(source, '2026', 'invoice.pdf'), Buffer.alloc(100_000, 3));
    const copy = path.join(cluster.dir, 'node-b', 'service', 'attachments', '2026', 'invoice.pdf');
    await waitFor('the attachment on the standby', () => existsSync(copy), 30_000);
    expect(sha(copy)).toBe(sha(path.join(source, '2026', 'invoice.pdf')));
    expect((await b.direct.status()).role).toBe('standby');
  });

  it('a node’s credentials cannot delete or rewrite anything in the repository', async () => {
    const [a] = cluster.nodes;
    const storage = new HttpStorage(cluster.storageUrl, { nodeId: a.nodeId, secret: a.secret });
    const [pack] = await storage.list('data');
    await expect(storage.delete(`data/${pack.name}`)).rejects.toThrow(/append-only/);
    await expect(storage.put(`data/${pack.name}`, Buffer.from('garbage'))).rejects.toThrow(/do not match/);
    const [snap] = await storage.list('snapshots');
    await expect(storage.delete(`snapshots/${snap.name}`)).rejects.toThrow(/append-only/);
    expect((await storage.get(`data/${pack.name}`)).length).toBe(pack.size);
    const stranger = new HttpStorage(cluster.storageUrl, { nodeId: a.nodeId, secret: 'ab'.repeat(32) });
    await expect(stranger.list('snapshots')).rejects.toThrow();
  });
  it('07.6 a node stores a name that is not UTF-8; through a repository that does not list byte-names it skips it, saying why, and leaves the config alone', async () => {
    const [a] = cluster.nodes;
    const dir = path.join(cluster.dir, 'node-a-bytes');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'plain.txt'), 'plain');
    writeFileSync(Buffer.from(`${dir}/caf\xe9.txt`, 'latin1'), 'a Latin-1 name');
    const backup = () => runJob(a.direct, { kind: 'backup', paths: [dir], sourceName: 'bytes' });
    const stored = await backup();
    expect({ status: stored.status, warnings: stored.result?.warnings }).toEqual({ status: 'succeeded', warnings: [] });
    const repository = cluster.nodeRepository(a);
    const owner = await openRepository(repository, 'cluster repository passphrase');
    expect((await owner.resolveSnapshot(stored.result!.id as string)).summary.files).toBe(2);

    // A repository the control plane has not listed the feature in: the node may not write the config.
    const config = readFileSync(path.join(repository, 'config'));
    const { mac: _, ...unsigned } = owner.config;
    const without = signConfig(owner.key, {
      ...unsigned,
      features: unsigned.features?.filter((f) => f !== 'byte-names'),
    });
    writeFileSync(path.join(repository, 'config'), JSON.stringify(without, null, 2));
    try {
      // The engine as the node runs it, opening the repository afresh through the storage API with its credentials.
      const asNode = await Repository.open(
        new HttpStorage(cluster.storageUrl, { nodeId: a.nodeId, secret: a.secret }),
        nodeRepositoryPassword(a.secret),
        { lockOwner: a.nodeId },
      );
      const skipped = await runBackup(asNode, { paths: [dir], node: 'node-a', sourceName: 'bytes' });
      expect(skipped.snapshot.warnings).toEqual([
        expect.stringMatching(
          /caf\\xe9\.txt: its name or link target is not UTF-8, and the repository does not list the byte-names feature/,
        ),
      ]);
      expect(skipped.snapshot.summary).toMatchObject({ files: 1, skipped: 1 });
      expect(JSON.parse(readFileSync(path.join(repository, 'config'), 'utf8')).features).not.toContain('byte-names');
    } finally {
      writeFileSync(path.join(repository, 'config'), config);
    }
  });
});
