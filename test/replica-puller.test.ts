// 15.1 Both sides on their own threads, as the agents run them: the primary's replicator behind the peer route
// on 127.0.0.1, a service writing from a process of its own, and a standby's puller laying the frames down as
// they come. It follows only the primary it is told to (token and all), and asks for a base when the primary
// starts a new generation.
import { copyFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { NonceCache } from '@/lib/engine/nodes/signed-request';
import { ReplicaPuller } from '@/lib/engine/replication/puller';
import { BASE_LOG, type BaseFiles, Replicator } from '@/lib/engine/replication/replicator';
import { samePosition } from '@/lib/engine/replication/wal-follower';
import { serveWalPull } from '@/lib/engine/replication/wal-peer';

import { tempDir } from './helpers';
import { walDatabase, walRows } from './support/wal-database';
import { exitOf, waitFor } from './support/wait';

const DIST = path.resolve(import.meta.dirname, '..', 'dist');
const WRITER = path.join(import.meta.dirname, 'support', 'sqlite-writer.cjs');
const GROUP_KEY = 'c3'.repeat(32);
const TOKEN = 3;

const servers: http.Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
});

/** The base files of a generation, copied aside as the agent restores them from the repository, its log part
 *  beside the file under the name the copy keeps it by. */
function stagedBase(baseDir: string, into: string): string {
  const staged = path.join(into, 'base.db');
  copyFileSync(path.join(baseDir, 'base.db'), staged);
  if (existsSync(path.join(baseDir, BASE_LOG))) copyFileSync(path.join(baseDir, BASE_LOG), `${staged}-wal`);
  return staged;
}

describe('15.1 a standby’s puller and the primary’s replicator', () => {
  it('15.1 the standby follows the primary it is told to, lays frames down while the service writes, ends with its database, and asks for a base when a new generation begins', async () => {
    const dir = tempDir('puller-primary');
    const db = walDatabase(dir);
    const replicator = new Replicator(path.join(DIST, 'replicator-worker.cjs'), {
      dbPath: db,
      shownAs: 'app.db',
      storeDir: path.join(dir, 'frames'),
      pollMs: 5,
      checkpointFrames: 200,
    });
    const generations: BaseFiles[] = [];
    replicator.on('base', (g) => generations.push(g));
    /** The token the primary answers with: none until it serves (a node that just took the key). */
    let leading: number | null = TOKEN;
    const server = http.createServer((req, res) =>
      serveWalPull(
        {
          groupKey: () => GROUP_KEY,
          token: () => leading,
          answer: (request, token) => replicator.answer(request, token),
          acknowledged: () => {},
        },
        nonces,
        req,
        res,
      ),
    );
    const nonces = new NonceCache();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const puller = new ReplicaPuller(path.join(DIST, 'puller-worker.cjs'), {
      nodeId: 'standby-1',
      db: 'app.db',
      dbPath: path.join(tempDir('puller-standby'), 'app.db'),
      pollMs: 20,
      timeoutMs: 5000,
    });
    const said = { notPrimary: [] as string[], baseNeeded: [] as [string, string | null][], errors: [] as string[] };
    puller.on('not-primary', (why) => said.notPrimary.push(why));
    puller.on('base-needed', (why, generation) => said.baseNeeded.push([why, generation]));
    puller.on('error', (err) => said.errors.push(err.message));

    await waitFor('the primary’s first generation', () => generations.length === 1, 10_000);
    // With no base yet, it asks the primary, which names the generation to start from.
    puller.follow({ url, token: TOKEN, groupKey: GROUP_KEY });
    await waitFor('the standby to ask for a base', () => said.baseNeeded.length === 1, 10_000);
    expect(said.baseNeeded).toEqual([['this copy has no base yet', generations[0].position.generation]]);
    await puller.installBase(
      stagedBase(generations[0].baseDir, tempDir('puller-base')),
      generations[0].position,
      generations[0].logInFile,
    );
    // Told to follow a primary by a token that is not the current one: it is refused, and takes nothing.
    puller.follow({ url, token: TOKEN - 1, groupKey: GROUP_KEY });
    await waitFor('the refusal', () => said.notPrimary.length > 0, 10_000);
    expect(said.notPrimary[0]).toBe(`this node is the primary of token ${TOKEN}, not ${TOKEN - 1}`);
    expect(puller.position).toEqual(generations[0].position);

    // Told to follow the node that took the key before it replicates: refused while it does not, and taken up, with
    // no word from the agent, once it does.
    leading = null;
    puller.follow({ url, token: TOKEN, groupKey: GROUP_KEY });
    // (Refusals of the earlier token, asked again meanwhile, may come first.)
    await waitFor(
      'the refusal of a node that does not replicate yet',
      () => said.notPrimary.includes('this node is not the primary'),
      10_000,
    );
    expect(new Set(said.notPrimary)).toEqual(
      new Set([`this node is the primary of token ${TOKEN}, not ${TOKEN - 1}`, 'this node is not the primary']),
    );
    leading = TOKEN;
    const writer = spawn(process.execPath, [WRITER, db, '300'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitFor('the writer to exit', exitOf(writer), 60_000);
    const writerExited = Date.now();
    expect(writer.exitCode).toBe(0);
    await waitFor(
      'the standby to have everything committed before the writer exited',
      () => (puller.caughtUpAt ?? 0) > writerExited,
      30_000,
    );
    expect(samePosition(puller.position!, replicator.position!)).toBe(true);

    // Every transaction the service committed is in the copy: the primary read its log to the end after the
    // writer exited, and said when.
    expect(puller.caughtUpAt).toBeGreaterThan(writerExited);
    // A new generation on the primary: the standby says it needs its base.
    replicator.newGeneration();
    await waitFor('the standby to ask for a base', () => said.baseNeeded.length > 1, 10_000);
    expect(said.errors).toEqual([]);

    const final = await puller.promote();
    await replicator.stop();
    expect(final?.generation).toBe(generations[0].position.generation);
    expect(walRows(puller.options.dbPath)).toEqual(walRows(db));
  }, 120_000);
});
