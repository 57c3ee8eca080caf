// 09.1: a repository from before per-node repositories keeps working. There, a node's key was a key to the control
// plane's own repository and its backups and its group's shipped data were in it. The move at start copies them
// into the node's and the group's own repositories (each blob read, checked and sealed again), removes the old
// node key and the originals, and can be run again; the node's agent keeps its config.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { describeTree, tempDir } from './helpers';

process.env.LIFELINE_DATA_DIR = tempDir('repository-migration');

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);

describe('09.1 moving node data out of the control plane’s repository', () => {
  it('09.1 copies each node’s snapshots and its group’s ships into their own repositories, then removes the old node key and the originals', async () => {
    const { db } = await import('@/lib/db/client');
    const { failoverGroups, groupMembers, nodes, snapshots } = await import('@/lib/db/schema');
    const { ensureRepository } = await import('@/lib/control/repository');
    const { runCli } = await import('@/lib/control/run-cli');
    const { refreshSnapshots } = await import('@/lib/control/snapshot-cache');
    const { migrateToNodeRepositories } = await import('@/lib/control/migrate-repositories');
    const { groupRepositoryLocation, nodeRepositoryLocation } = await import('@/lib/control/tenants');
    const { groupRepositoryPassword, nodeRepositoryPassword } = await import('@/lib/engine/nodes/tenants');
    const { newSecret } = await import('@/lib/engine/nodes/signed-request');
    const { openRepository } = await import('@/lib/engine');
    const { eq } = await import('drizzle-orm');
    const repo = await ensureRepository();
    const passphrase = readFileSync(repo.passwordFile, 'utf8');
    const cli = async (args: string[]) => {
      const { code, result, error } = await runCli(args, repo.passwordFile).done;
      expect(code, String(error?.message)).toBe(0);
      return result!;
    };

    // The layout before: the node's key in the control plane's repository, its backups and its group's ships there.
    const oldPassword = 'the node key of before';
    const keyFile = path.join(tempDir('old-key'), 'key');
    writeFileSync(keyFile, oldPassword, { mode: 0o600 });
    const oldKey = String((await cli(['key', 'add', '--repo', repo.location, '--new-password-file', keyFile])).id);
    const secret = newSecret();
    const node = db()
      .insert(nodes)
      .values({
        id: 'node-0ld',
        name: 'db-1',
        agentUrl: 'http://127.0.0.1:9',
        serviceHost: '127.0.0.1',
        servicePort: 9,
        secret,
        repositoryKeyId: oldKey,
        createdAt: Date.now(),
      })
      .returning()
      .get();
    const groupKey = 'ab'.repeat(32);
    db()
      .insert(failoverGroups)
      .values({ id: 'g1', name: 'orders', groupKey, endpointHost: '127.0.0.1', endpointPort: 9, createdAt: Date.now() })
      .run();
    db().insert(groupMembers).values({ groupId: 'g1', nodeId: node.id }).run();
    const files = path.join(tempDir('node-files'), 'srv');
    mkdirSync(path.join(files, 'conf'), { recursive: true });
    writeFileSync(path.join(files, 'conf', 'app.toml'), 'port = 8080\n');
    writeFileSync(path.join(files, 'orders.csv'), 'id,total\n1,20\n'.repeat(1000));
    const backup = (nodeName: string, source: string) =>
      cli(['backup', '--repo', repo.location, '--node', nodeName, '--source', source, files]);
    const first = await backup('db-1', 'files');
    writeFileSync(path.join(files, 'orders.csv'), 'id,total\n2,30\n'.repeat(1000));
    const second = await backup('db-1', 'files');
    const ship = await backup('ship', 'g1');
    const own = await backup('local', 'control-plane');
    await refreshSnapshots(repo);
    // A node registered under the new layout, before the move ran: it is left as it is.
    const { registerNode } = await import('@/lib/control/node-registry');
    const fresh = await registerNode({
      name: 'web-9',
      agentUrl: 'http://127.0.0.1:9',
      serviceHost: '127.0.0.1',
      servicePort: 9,
    });

    await migrateToNodeRepositories();
    const freshAfter = db().select().from(nodes).where(eq(nodes.id, fresh.node.id)).get()!;
    expect(freshAfter.repositoryKeyId).toBe(fresh.node.repositoryKeyId);
    await openRepository(nodeRepositoryLocation(fresh.node.id), nodeRepositoryPassword(fresh.credentials.secret));

    // The node's repository holds its two snapshots, opened with the passphrase its secret gives: restored, they
    // are the files as they were.
    const nodeRepo = await openRepository(nodeRepositoryLocation(node.id), nodeRepositoryPassword(secret));
    const moved = await nodeRepo.listSnapshots();
    expect(moved.map((s) => s.original)).toEqual([first.id, second.id]);
    const target = path.join(tempDir('migrated-restore'), 'out');
    const restored = await runCli(
      ['restore', '--repo', nodeRepositoryLocation(node.id), moved[1].id, '--target', target],
      repo.passwordFile,
    ).done;
    expect(restored.code).toBe(0);
    expect(describeTree(path.join(target, files))).toEqual(describeTree(files));
    const groupRepo = await openRepository(groupRepositoryLocation('g1'), groupRepositoryPassword(groupKey));
    expect((await groupRepo.listSnapshots()).map((s) => s.original)).toEqual([ship.id]);

    // The control plane's repository keeps its own snapshot only, and no node key opens it.
    const main = await openRepository(repo.location, passphrase);
    expect((await main.listSnapshots()).map((s) => s.id)).toEqual([own.id]);
    await expect(openRepository(repo.location, oldPassword)).rejects.toMatchObject({ code: 'wrong-password' });
    expect(
      db().select({ id: snapshots.id, repository: snapshots.repository }).from(snapshots).all().sort(byId),
    ).toEqual(
      [
        { id: String(own.id), repository: null },
        ...moved.map((s) => ({ id: s.id, repository: `tenants/nodes/${node.id}` })),
      ].sort(byId),
    );
    // The node's key id is now the one to its own repository (rotation removes it).
    const keys = (await cli(['key', 'list', '--repo', nodeRepositoryLocation(node.id)])).keys as { id: string }[];
    expect(keys.map((k) => k.id)).toContain(
      db().select().from(nodes).where(eq(nodes.id, node.id)).get()!.repositoryKeyId,
    );

    // Run again, it changes nothing.
    await migrateToNodeRepositories();
    expect((await nodeRepo.listSnapshots()).map((s) => s.id)).toEqual(moved.map((s) => s.id));
  }, 120_000);
});
