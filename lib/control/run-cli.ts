// Runs the `lifeline` CLI as a child process with --json: heavy work stays off the server's event loop, and the
// CLI's JSON lines (docs/cli.md) are the contract between the two.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

import { dataDir } from '../config';
import { childEnv } from '../engine/child-env';
import { repositoryCredentialsFile, s3Env } from './s3-credentials';

export interface CliLine {
  type: 'progress' | 'warning' | 'phase' | 'result' | 'error';
  [key: string]: unknown;
}

export interface CliRun {
  child: ChildProcess;
  /** Resolves with the exit code and the result or error line. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; result: CliLine | null; error: CliLine | null }>;
}

export function cliPath(): string {
  return path.join(process.cwd(), 'dist', 'lifeline.cjs');
}

/** `lifeline ARGS… --json` as a child of the server, its output piped: the repository's passphrase from its file,
 *  the data directory's cache, and the S3 credentials file given; it stops if the server dies. */
export function spawnCli(args: string[], passwordFile: string, s3Credentials: string | null): ChildProcess {
  const cache = path.join(dataDir(), 'cache');
  return spawn(
    process.execPath,
    [cliPath(), ...args, '--password-file', passwordFile, '--cache-dir', cache, '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv({ LIFELINE_EXIT_WITH_PARENT: String(process.pid), ...s3Env(s3Credentials) }),
    },
  );
}

/** Every run gets the data directory's cache (key hints, staged copies): the server's user may have no home; and
 *  the S3 credentials file of the repository in use, if it is in S3 (`s3Credentials` names another, or none). */
export function runCli(
  args: string[],
  passwordFile: string,
  onLine?: (line: CliLine) => void,
  s3Credentials: string | null = repositoryCredentialsFile(),
): CliRun {
  const child = spawnCli(args, passwordFile, s3Credentials);
  let result: CliLine | null = null;
  let error: CliLine | null = null;
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: CliLine;
    try {
      line = JSON.parse(text) as CliLine;
    } catch {
      return;
    }
    if (line.type === 'result') result = line;
    else if (line.type === 'error') error = line;
    onLine?.(line);
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    result: CliLine | null;
    error: CliLine | null;
  }>((resolve) => {
    child.on('close', (code, signal) => {
      if (code !== 0 && !error && stderr)
        error = { type: 'error', code: 'internal', message: stderr.trim().split('\n').slice(-3).join(' ') };
      resolve({ code, signal, result, error });
    });
    child.on('error', (err) =>
      resolve({
        code: null,
        signal: null,
        result: null,
        error: { type: 'error', code: 'internal', message: err.message },
      }),
    );
  });
  return { child, done };
}
