// Shared set-up for integration tests: real temporary directories, real repositories, the real CLI.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll } from 'vitest';

import { initRepository, openRepository, type Repository } from '@/lib/engine';

export const PASSWORD = 'correct horse battery staple';
/** A cheap scrypt cost so that the many repositories of the tests open quickly; the CLI always uses the strong one. */
export const TEST_KDF = { N: 2 ** 10, r: 8, p: 1 };
export const CLI = path.resolve(__dirname, '..', 'bin', 'lifeline.cjs');
/** The compiled backup worker, for the engine run in a test's own process as the CLI runs it. */
export const BACKUP_WORKER = path.resolve(__dirname, '..', 'dist', 'backup-worker.cjs');

const made: string[] = [];
afterAll(() => {
  // KEEP_TMP=1 keeps them, to read what a failed test left (an agent's log, a repository).
  if (process.env.KEEP_TMP) return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(label = 'test'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `lifeline-${label}-`));
  made.push(dir);
  return dir;
}

export async function newRepository(): Promise<{ repo: Repository; location: string }> {
  const location = path.join(tempDir('repo'), 'repo');
  const repo = await initRepository(location, PASSWORD, { kdf: TEST_KDF });
  return { repo, location };
}

export function reopen(location: string): Promise<Repository> {
  return openRepository(location, PASSWORD);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>[];
}

export function cli(args: string[], env: Record<string, string | undefined> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, LIFELINE_PASSWORD: PASSWORD, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, json: parseLines(r.stdout) };
}

export function cliAsync(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, LIFELINE_PASSWORD: PASSWORD, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, json: parseLines(stdout) }));
  });
}

function parseLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function resultOf(r: CliResult): Record<string, unknown> {
  const result = r.json.find((l) => l.type === 'result');
  if (!result) throw new Error(`no result line; exit ${r.code}; stderr: ${r.stderr}; stdout: ${r.stdout}`);
  return result;
}

export interface Entry {
  type: string;
  mode: number;
  mtimeMs?: number;
  sha256?: string;
  target?: string;
}

/** Everything a restore must reproduce about a tree: type, mode, mtime, content hash, link target. Names and
 *  targets are read as bytes: one that is not UTF-8 is keyed as `bytes:` and its hex, so no two names meet. */
export function describeTree(root: string): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (dir: Buffer, rel: string) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare)) {
      const full = Buffer.concat([dir, Buffer.from('/'), name]);
      const key = path.posix.join(rel, shownBytes(name));
      const st = lstatSync(full);
      if (st.isSymbolicLink())
        out[key] = { type: 'symlink', mode: 0, target: shownBytes(readlinkSync(full, { encoding: 'buffer' })) };
      else if (st.isDirectory()) {
        out[key] = { type: 'dir', mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs) };
        walk(full, key);
      } else if (st.isFile()) {
        out[key] = {
          type: 'file',
          mode: st.mode & 0o7777,
          mtimeMs: Math.floor(st.mtimeMs),
          sha256: createHash('sha256').update(readFileSync(full)).digest('hex'),
        };
      } else out[key] = { type: 'other', mode: st.mode & 0o7777 };
    }
  };
  walk(Buffer.from(root), '');
  return out;
}

function shownBytes(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return Buffer.from(text).equals(bytes) ? text : `bytes:${bytes.toString('hex')}`;
}
