// 09.1: a node reads only its own data. Two real agents registered with the control plane back up through its
// storage API, and the control plane backs up its own files; then one node, with its own credentials and its own
// repository passphrase, tries every way to reach the other's data and the control plane's backups: every object
// by name, through its group prefix, with the path walked up or encoded, and the passphrase against every
// repository on the control plane's disk.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { storageHttpServer } from './support/cluster';
import {
  listen,
  runBackupJob,
  startRegisteredAgent,
  stopControlPlaneParts,
  type RegisteredAgent,
} from './support/control-plane';

process.env.LIFELINE_DATA_DIR = tempDir('node-isolation');

afterAll(stopControlPlaneParts);

/** Every object file of every repository under `root`, by path relative to `root`. */
function objectFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.includes('.tmp-')) out.push(path.relative(root, full));
    }
  };
  walk(root);
  return out;
}

/** A repository's object file path (data/ab/<id>) as the storage API names it (data/<id>). */
function storageName(relative: string): string {
  const parts = relative.split('/');
  return parts[0] === 'data' && parts.length === 3 ? `data/${parts[2]}` : relative;
}

describe('09.1 a rogue node cannot read another node’s data or the control plane’s backups', () => {
  let alpha: RegisteredAgent;
  let beta: RegisteredAgent;
  let repositoryRoot: string;
  /** Where the node's own repository is: its part of the repository (docs/repository-format.md). */
  const ownRepository = () => path.join(repositoryRoot, 'tenants', 'nodes', alpha.nodeId);

  beforeAll(async () => {
    const { db } = await import('@/lib/db/client');
    const { plans, sources } = await import('@/lib/db/schema');
    const { agentStorage } = await import('@/lib/control/agent-storage');
    const { ensureRepository } = await import('@/lib/control/repository');
    const { runCli } = await import('@/lib/control/run-cli');
    process.env.LIFELINE_URL = await listen(storageHttpServer(agentStorage));
    alpha = await startRegisteredAgent('alpha');
    beta = await startRegisteredAgent('beta');

    // beta's files, backed up through the dashboard's job queue by beta's agent.
    const files = path.join(beta.dir, 'files');
    mkdirSync(files, { recursive: true });
    writeFileSync(path.join(files, 'payroll.csv'), 'name,salary\nbeta-secret,1\n');
    const plan = db().insert(plans).values({ name: 'beta plan', createdAt: Date.now() }).returning().get();
    const source = db()
      .insert(sources)
      .values({
        planId: plan.id,
        node: 'beta',
        name: 'beta files',
        kind: 'directory',
        path: files,
        createdAt: Date.now(),
      })
      .returning()
      .get();
    expect((await runBackupJob(source.id)).status).toBe('succeeded');
    // alpha backs up too, so that it has data of its own to read.
    const own = path.join(alpha.dir, 'files');
    mkdirSync(own, { recursive: true });
    writeFileSync(path.join(own, 'notes.txt'), 'alpha’s own notes\n');
    const ownSource = db()
      .insert(sources)
      .values({
        planId: plan.id,
        node: 'alpha',
        name: 'alpha files',
        kind: 'directory',
        path: own,
        createdAt: Date.now(),
      })
      .returning()
      .get();
    expect((await runBackupJob(ownSource.id)).status).toBe('succeeded');

    // The control plane's own backup, as its built-in source makes: its database, with every node's secret.
    const repo = await ensureRepository();
    repositoryRoot = repo.location;
    const secrets = path.join(tempDir('control-plane-files'), 'secrets.txt');
    writeFileSync(secrets, 'the control plane’s own secret\n');
    const { code } = await runCli(
      ['backup', '--repo', repo.location, '--node', 'local', '--source', 'control-plane', secrets],
      repo.passwordFile,
    ).done;
    expect(code).toBe(0);

    // A failover group of beta's, with shipped data in its repository.
    const { failoverGroups, groupMembers } = await import('@/lib/db/schema');
    const { ensureTenant, groupRepositoryLocation } = await import('@/lib/control/tenants');
    const { groupRepositoryPassword } = await import('@/lib/engine/nodes/tenants');
    const groupKey = 'cd'.repeat(32);
    db()
      .insert(failoverGroups)
      .values({
        id: 'g-beta',
        name: 'beta',
        groupKey,
        endpointHost: '127.0.0.1',
        endpointPort: 9,
        createdAt: Date.now(),
      })
      .run();
    db().insert(groupMembers).values({ groupId: 'g-beta', nodeId: beta.nodeId }).run();
    await ensureTenant({ kind: 'group', groupId: 'g-beta' }, groupRepositoryPassword(groupKey));
    const shipped = await runCli(
      ['backup', '--repo', groupRepositoryLocation('g-beta'), '--node', 'ship', '--source', 'g-beta', files],
      repo.passwordFile,
    ).done;
    expect(shipped.code).toBe(0);
  }, 120_000);

  it('09.1 no object of another node or of the control plane is served to it, by any path', async () => {
    const { signedFetch } = await import('@/lib/engine/nodes/signed-request');
    const own = path.relative(repositoryRoot, ownRepository());
    const creds = { nodeId: alpha.credentials.nodeId, secret: alpha.credentials.secret };
    const foreign = objectFiles(repositoryRoot).filter((f) => !f.startsWith(`${own}/`));
    expect(foreign.some((f) => f.startsWith('snapshots/'))).toBe(true);
    const foreignBytes = new Set(foreign.map((f) => readFileSync(path.join(repositoryRoot, f)).toString('base64')));
    const served: { url: string; status: number; body: Buffer }[] = [];
    const ask = async (url: string) => {
      // An answer not signed for this node (a request whose path the server read otherwise) served it nothing.
      const res = await signedFetch(creds, process.env.LIFELINE_URL!, 'GET', url, { timeoutMs: 10_000 }).catch(
        (err: Error) => ({ status: 0, body: Buffer.from(err.message) }),
      );
      served.push({ url, status: res.status, body: res.body });
    };
    for (const file of foreign) {
      const name = storageName(file);
      const inner = name.replace(/^tenants\//, '');
      for (const url of [
        `/api/agent/storage/${name}`,
        `/api/agent/storage/${inner}`,
        `/api/agent/storage/../${name}`,
        `/api/agent/storage/%2e%2e/${name}`,
        `/api/agent/storage/%2e%2e%2f%2e%2e%2f${name.replace(/\//g, '%2f')}`,
        `/api/agent/storage/groups/..%2f..%2f${name.replace(/\//g, '%2f')}`,
        `/api/agent/storage/groups/${beta.nodeId}/${name}`,
      ])
        await ask(url);
    }
    for (const kind of ['snapshots', 'index', 'keys', 'locks', 'data']) await ask(`/api/agent/storage/${kind}?list=1`);
    const leaked = served.filter((s) => s.status < 300 && foreignBytes.has(s.body.toString('base64')));
    expect(leaked.map((s) => s.url)).toEqual([]);
    // Nor does a listing name a foreign snapshot or key.
    const foreignNames = new Set(foreign.map((f) => path.basename(f)));
    const listed = served
      .filter((s) => s.url.endsWith('?list=1') && s.status === 200)
      .flatMap((s) => (JSON.parse(s.body.toString('utf8')) as { name: string }[]).map((o) => o.name));
    expect(listed.filter((n) => foreignNames.has(n))).toEqual([]);
  });

  it('09.1 a group’s repository is served to its members only', async () => {
    const { HttpStorage } = await import('@/lib/engine/nodes/http-storage');
    const outsider = new HttpStorage(process.env.LIFELINE_URL!, alpha.credentials, 'g-beta');
    await expect(outsider.list('snapshots')).rejects.toThrow(/node alpha is not a member of group g-beta/);
    await expect(outsider.get('config')).rejects.toThrow(/not a member/);
    const member = new HttpStorage(process.env.LIFELINE_URL!, beta.credentials, 'g-beta');
    expect(await member.list('snapshots')).toHaveLength(1);
    // A group id that would walk out of the groups' directory is refused before any repository is looked at.
    const asBeta = (id: string) => new HttpStorage(process.env.LIFELINE_URL!, beta.credentials, id);
    for (const id of ['.hidden', '%2e%2e']) await expect(asBeta(id).get('config')).rejects.toThrow(/not a group id/);
    // Nor may the object's name walk out of the group's repository.
    await expect(asBeta('g-beta/..').get('config')).rejects.toThrow(/refused GET config: no such object kind: \.\./);
  });

  it('09.1 its repository passphrase opens its own repository and no other on the control plane’s disk', async () => {
    const { openRepository } = await import('@/lib/engine');
    const { nodeRepositoryPassword } = await import('@/lib/engine/nodes/tenants');
    const password = nodeRepositoryPassword(alpha.credentials.secret);
    const repositories = objectFiles(repositoryRoot)
      .filter((f) => path.basename(f) === 'config')
      .map((f) => path.join(repositoryRoot, path.dirname(f)))
      .filter((dir) => dir !== ownRepository());
    expect(repositories.length).toBeGreaterThanOrEqual(2);
    for (const dir of repositories)
      await expect(openRepository(dir, password), dir).rejects.toMatchObject({ code: 'wrong-password' });
    const own = await openRepository(ownRepository(), password);
    expect((await own.listSnapshots()).map((s) => s.source)).toEqual(['alpha:alpha files']);
  });
});
