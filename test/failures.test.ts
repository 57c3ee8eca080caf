import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { initRepository, isEngineError, runBackup, runPrune, runVerify } from '@/lib/engine';
import { seal } from '@/lib/engine/repository/crypto';

import { CLI, cli, newRepository, PASSWORD, reopen, resultOf, tempDir, TEST_KDF } from './helpers';
import { exitOf, waitFor } from './support/wait';

function source(mb: number): string {
  const src = path.join(tempDir('fail-src'), 'data');
  mkdirSync(src);
  for (let i = 0; i < mb; i++) writeFileSync(path.join(src, `f${i}.bin`), randomBytes(1024 * 1024));
  return src;
}

/** A tmpfs of a few MiB is a real full disk; mounting one needs root, as CI has. */
const canMount = process.getuid?.() === 0;
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
});

describe('failures leave the repository usable', () => {
  it.runIf(canMount)('a full disk fails the backup with disk-full, and the next backup succeeds', async () => {
    const mount = tempDir('tiny-disk');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mount]);
    mounts.push(mount);
    const location = path.join(mount, 'repo');
    const repo = await initRepository(location, PASSWORD, { kdf: TEST_KDF });
    await expect(runBackup(repo, { paths: [source(6)] })).rejects.toSatisfy(
      (e) => isEngineError(e, 'disk-full') && /no space left/.test((e as Error).message),
    );
    expect(readdirSync(path.join(location, 'snapshots'))).toEqual([]);
    const after = await reopen(location);
    expect((await runVerify(after, { readDataPercent: 100 })).errors).toEqual([]);
    const { snapshot } = await runBackup(after, { paths: [source(1)] });
    expect(snapshot.summary.files).toBe(1);
  });

  it('a lock left by a dead process is cleared; a live conflicting lock is waited for, then reported', async () => {
    const { repo, location } = await newRepository();
    const lock = (pid: number) =>
      seal(
        repo.key.encryption,
        Buffer.from(
          JSON.stringify({ host: os.hostname(), pid, exclusive: true, operation: 'prune', time: Date.now() }),
        ),
        'lifeline lock',
      );
    // A pid far above pid_max belongs to no process.
    await repo.storage.put('locks/dead', lock(99_999_999));
    const src = source(1);
    await runBackup(repo, { paths: [src] });
    expect(readdirSync(path.join(location, 'locks'))).toEqual([]);

    await repo.storage.put('locks/alive', lock(process.pid));
    const started = Date.now();
    await expect(runBackup(repo, { paths: [src], lockWaitMs: 600 })).rejects.toSatisfy(
      (e) => isEngineError(e, 'locked') && /locked by prune/.test((e as Error).message),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('06.2 a lock that cannot be read, or one dated in the future, blocks no backup or prune, and is reported', async () => {
    const { repo, location } = await newRepository();
    // Damage, or a forgery planted before the storage API checked what nodes upload.
    await repo.storage.put(`locks/${'ab'.repeat(16)}`, randomBytes(300));
    const future = {
      host: 'elsewhere',
      pid: 1,
      exclusive: true,
      operation: 'prune',
      time: Date.now() + 365 * 86_400_000,
    };
    await repo.storage.put(
      `locks/${'cd'.repeat(16)}`,
      seal(repo.key.encryption, Buffer.from(JSON.stringify(future)), 'lifeline lock'),
    );
    const warnings: string[] = [];
    const onEvent = (e: { type: string; message?: string }) => {
      if (e.type === 'warning') warnings.push(e.message!);
    };
    const { id } = await runBackup(repo, { paths: [source(1)], onEvent, lockWaitMs: 0 });
    expect(readdirSync(path.join(location, 'snapshots'))).toEqual([id]);
    expect(warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/cannot be read/), expect.stringMatching(/in the future/)]),
    );
    await expect(runPrune(repo, { onEvent })).resolves.toMatchObject({ packsDeleted: 0 });
    expect((await runVerify(repo, { readDataPercent: 100 })).errors).toEqual([]);
  });

  it('a backup whose lock was taken away saves no snapshot', async () => {
    const { repo, location } = await newRepository();
    const src = source(2);
    const removeLocks = () => {
      for (const name of readdirSync(path.join(location, 'locks'))) rmSync(path.join(location, 'locks', name));
    };
    await expect(
      runBackup(repo, { paths: [src], onEvent: (e) => e.type === 'phase' && e.phase === 'save' && removeLocks() }),
    ).rejects.toSatisfy((e) => isEngineError(e, 'locked') && /lost its repository lock/.test((e as Error).message));
    expect(readdirSync(path.join(location, 'snapshots'))).toEqual([]);
  });

  it('a backup started by the dashboard stops when the dashboard dies, and saves nothing', async () => {
    const repo = path.join(tempDir('orphan'), 'repo');
    expect(cli(['init', '--repo', repo]).code).toBe(0);
    const src = source(250);
    // A stand-in for the dashboard: it starts the backup as the control plane does (naming itself as the parent to
    // outlive), then dies at once, possibly before the CLI has even started up.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `const c = require('child_process').spawn(process.execPath, ${JSON.stringify([CLI, 'backup', '--repo', repo, src])}, { stdio: 'ignore', detached: true, env: { ...process.env, LIFELINE_EXIT_WITH_PARENT: String(process.pid) } }); console.log(c.pid); process.exit(0);`,
      ],
      { env: { ...process.env, LIFELINE_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    parent.stdout.on('data', (d) => (out += d));
    await waitFor('the stand-in dashboard to exit', exitOf(parent), 20_000);
    const pid = Number(out.trim());
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor('the orphaned backup to stop', () => !alive(), 10_000);
    expect(readdirSync(path.join(repo, 'snapshots'))).toEqual([]);
    expect(readdirSync(path.join(repo, 'locks'))).toEqual([]);
    expect(cli(['verify', '--repo', repo]).code).toBe(0);
  });

  it('Ctrl-C stops a backup with exit 130, releases its lock, and the next backup succeeds', async () => {
    const repo = path.join(tempDir('sigint'), 'repo');
    expect(cli(['init', '--repo', repo]).code).toBe(0);
    const src = source(60);
    const child = spawn(process.execPath, [CLI, 'backup', '--repo', repo, '--json', src], {
      env: { ...process.env, LIFELINE_PASSWORD: PASSWORD },
    });
    let out = '';
    let interrupted = false;
    child.stdout.on('data', (d) => {
      out += d;
      // Interrupt once, as soon as the backup is saving data (a second Ctrl-C would kill it outright).
      if (!interrupted && out.includes('"type":"progress"')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    expect(await waitFor('the interrupted backup to exit', exitOf(child), 30_000)).toBe(130);
    expect(out.trim().split('\n').at(-1)).toContain('"code":"cancelled"');
    expect(readdirSync(path.join(repo, 'locks'))).toEqual([]);
    expect(readdirSync(path.join(repo, 'snapshots'))).toEqual([]);
    expect(cli(['verify', '--repo', repo, '--read-data']).code).toBe(0);
    const next = cli(['backup', '--repo', repo, '--json', src]);
    expect(next.code).toBe(0);
    expect((resultOf(next).summary as { files: number }).files).toBe(60);
  });
});
