import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { cli, cliAsync, describeTree, PASSWORD, CLI, resultOf, tempDir } from './helpers';
import { exitOf, pace, waitFor } from './support/wait';
import { spawn } from 'node:child_process';

/** Packs of 4 MiB in this file's backups (a quarter of the usual): as many packs and indexes, and a crash between
 *  them, for a quarter of the data. The CLI's children read it from the environment. */
const PACK = 4 * 1024 * 1024;
process.env.LIFELINE_TEST_PACK_BYTES = String(PACK);
afterAll(() => {
  delete process.env.LIFELINE_TEST_PACK_BYTES;
});
const MiB = 1024 * 1024;

/** About 22.5 MiB of incompressible files (or `partMiB` each): about six packs, so a crash can fall between packs
 *  and indexes (an index every four packs). */
function bigSource(partMiB = 2.5): string {
  const src = path.join(tempDir('crash-src'), 'data');
  mkdirSync(src);
  for (let i = 0; i < 9; i++) writeFileSync(path.join(src, `part-${i}.bin`), randomBytes(partMiB * MiB));
  for (let i = 0; i < 200; i++) writeFileSync(path.join(src, `small-${i}.txt`), `file ${i}\n`.repeat(i + 1));
  return src;
}

function initRepo(): string {
  const repo = path.join(tempDir('crash-repo'), 'repo');
  expect(cli(['init', '--repo', repo]).code).toBe(0);
  return repo;
}

/** After a crash: verify passes with no manual step, the next backup succeeds, reusing what was written,
 *  and its snapshot restores byte for byte. */
function expectRecovers(repo: string, src: string, maxNewBytes: number): void {
  const verify = cli(['verify', '--repo', repo, '--read-data', '--json']);
  expect(resultOf(verify).errors).toEqual([]);
  expect(verify.code).toBe(0);
  const next = cli(['backup', '--repo', repo, '--json', src]);
  expect(next.code).toBe(0);
  expect((resultOf(next).summary as { newBytes: number }).newBytes).toBeLessThanOrEqual(maxNewBytes);
  expect(cli(['verify', '--repo', repo]).code).toBe(0);
  const target = tempDir('crash-restore');
  expect(cli(['restore', '--repo', repo, 'latest', '--target', target]).code).toBe(0);
  expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
}

const TOTAL = 9 * 2.5 * MiB;

describe('a backup killed with SIGKILL leaves a valid repository', () => {
  it('after the second pack, before any index: the packs are adopted and reused', () => {
    const repo = initRepo();
    const src = bigSource();
    const crashed = cli(['backup', '--repo', repo, src], { LIFELINE_TEST_CRASH_AFTER: 'pack:2' });
    expect(crashed.signal).toBe('SIGKILL');
    expect(readdirSync(path.join(repo, 'index'))).toEqual([]);
    expect(readdirSync(path.join(repo, 'locks'))).toHaveLength(1);
    // The two packs written are reused (each at least a pack's target).
    expectRecovers(repo, src, TOTAL - (2 * PACK - MiB));
  });

  it('after the first index file', () => {
    const repo = initRepo();
    const src = bigSource();
    expect(cli(['backup', '--repo', repo, src], { LIFELINE_TEST_CRASH_AFTER: 'index:1' }).signal).toBe('SIGKILL');
    expect(readdirSync(path.join(repo, 'snapshots'))).toEqual([]);
    // The four packs the first index lists are reused.
    expectRecovers(repo, src, TOTAL - (4 * PACK - MiB));
  });

  it('after the snapshot, before the lock is released', () => {
    const repo = initRepo();
    const src = bigSource();
    expect(cli(['backup', '--repo', repo, src], { LIFELINE_TEST_CRASH_AFTER: 'snapshot:1' }).signal).toBe('SIGKILL');
    expect(readdirSync(path.join(repo, 'snapshots'))).toHaveLength(1);
    expectRecovers(repo, src, 1024 * 1024);
  });

  it('at a random moment', async () => {
    const repo = initRepo();
    // 90 MiB: long enough that a kill between 0.3 and 1 s lands while it runs.
    const src = bigSource(10);
    const child = spawn(process.execPath, [CLI, 'backup', '--repo', repo, src], {
      env: { ...process.env, LIFELINE_PASSWORD: PASSWORD },
      stdio: 'ignore',
    });
    const delay = 300 + Math.floor(Math.random() * 700);
    const exited = exitOf(child);
    await pace(delay);
    child.kill('SIGKILL');
    await waitFor('the killed backup to exit', exited, 20_000);
    expectRecovers(repo, src, 9 * 10 * MiB + 2 * MiB);
  });
});

describe('concurrent backups', () => {
  it('two backups into one repository at once both land and verify', async () => {
    const repo = initRepo();
    const a = bigSource();
    const b = path.join(tempDir('crash-src-b'), 'other');
    mkdirSync(b);
    for (let i = 0; i < 3; i++) writeFileSync(path.join(b, `b-${i}.bin`), randomBytes(8 * 1024 * 1024));
    const [ra, rb] = await Promise.all([
      cliAsync(['backup', '--repo', repo, '--json', a]),
      cliAsync(['backup', '--repo', repo, '--json', b]),
    ]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    expect(cli(['verify', '--repo', repo, '--read-data']).code).toBe(0);
    for (const [src, r] of [
      [a, ra],
      [b, rb],
    ] as const) {
      const target = tempDir('conc');
      expect(cli(['restore', '--repo', repo, (resultOf(r).id as string).slice(0, 10), '--target', target]).code).toBe(
        0,
      );
      expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
    }
  });
});

/** A process's state letter from /proc: 'T' once it is stopped. */
function processState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '';
  } catch {
    return '';
  }
}

/** Stops the backup at `point` (as a process stalls: swapped out, its machine suspended), takes its lock away and
 *  prunes (as another process that judged the lock stale would: no snapshot uses the backup's packs, so the prune
 *  deletes them), then lets it go on; returns what it printed and how it ended. */
async function stallAt(
  repo: string,
  src: string,
  point: string,
  env: Record<string, string> = {},
): Promise<{ code: unknown; output: string }> {
  const child = spawn(process.execPath, [CLI, 'backup', '--repo', repo, '--json', src], {
    env: { ...process.env, LIFELINE_PASSWORD: PASSWORD, LIFELINE_TEST_STOP_AFTER: point, ...env },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = exitOf(child);
  await waitFor(`the backup to stall at ${point}`, () => processState(child.pid!) === 'T', 120_000);
  const locks = path.join(repo, 'locks');
  for (const name of readdirSync(locks)) rmSync(path.join(locks, name));
  const prune = await cliAsync(['prune', '--repo', repo, '--json']);
  expect(prune.code).toBe(0);
  child.kill('SIGCONT');
  const code = await waitFor('the backup to end', exited, 120_000);
  return { code, output };
}

describe('07.8 a backup whose lock was taken from it', () => {
  it('07.8 a backup that stalled while its lock was judged stale and a prune ran does not bring the lock back, and saves nothing', async () => {
    const repo = initRepo();
    const src = bigSource();
    // Stopped after its first index; it refreshes its lock every 100 ms once it runs again.
    const { code, output } = await stallAt(repo, src, 'index:1', { LIFELINE_TEST_LOCK_REFRESH_MS: '100' });
    expect(code).not.toBe(0);
    expect(output).toMatch(/lost its repository lock/);
    expect(readdirSync(path.join(repo, 'snapshots'))).toEqual([]);
    expect(readdirSync(path.join(repo, 'locks'))).toEqual([]);
    const verify = cli(['verify', '--repo', repo, '--json']);
    expect(resultOf(verify).errors).toEqual([]);
  }, 240_000);
});

describe('07.8 a backup that stalls between its lock check and a write', () => {
  it('07.8 stalled while indexing the packs a killed backup left: the index of packs a prune removed meanwhile is undone, and the next backup is whole', async () => {
    const repo = initRepo();
    const src = bigSource();
    expect(cli(['backup', '--repo', repo, src], { LIFELINE_TEST_CRASH_AFTER: 'pack:2' }).signal).toBe('SIGKILL');
    // The next backup's first index is the one that adopts those packs; the prune meanwhile deletes them.
    const { code, output } = await stallAt(repo, src, 'index-checked:1');
    expect(code).not.toBe(0);
    expect(output).toMatch(/lost its repository lock/);
    expect(readdirSync(path.join(repo, 'snapshots'))).toEqual([]);
    expectRecovers(repo, src, TOTAL + 2 * 1024 * 1024);
  }, 300_000);

  for (const point of ['index-checked:2', 'snapshot-checked:1']) {
    it(`07.8 stalled at ${point}: what it writes after its lock was taken is undone, and the next backup is whole`, async () => {
      const repo = initRepo();
      const src = bigSource();
      const { code, output } = await stallAt(repo, src, point);
      expect(code).not.toBe(0);
      expect(output).toMatch(/lost its repository lock/);
      expect(readdirSync(path.join(repo, 'snapshots'))).toEqual([]);
      expect(readdirSync(path.join(repo, 'locks'))).toEqual([]);
      // An index listing pruned packs would make the next backup take their blobs as stored and skip them.
      expectRecovers(repo, src, TOTAL + 2 * 1024 * 1024);
    }, 300_000);
  }
});
