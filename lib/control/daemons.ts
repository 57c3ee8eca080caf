// Long-running helpers the control plane starts on this machine (the demo's agents, the stable endpoints): each
// runs detached, in its own session, with a pid file in <data>/run, so that a dashboard restart leaves it running
// and the next start finds it again instead of starting a second one.
import 'server-only';

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { dataDir } from '../config';
import { childEnv } from '../engine/child-env';
import { probeTcp } from '../engine/nodes/health-probe';
import { cliPath } from './run-cli';

export function runDir(): string {
  return path.join(dataDir(), 'run');
}

function pidFile(name: string): string {
  return path.join(runDir(), `${name}.pid`);
}

/** The daemon `name`'s pid while it runs: `program` is what its command line holds (the CLI's path by default). */
export function daemonPid(name: string, program = cliPath()): number | null {
  try {
    const pid = Number(readFileSync(pidFile(name), 'utf8'));
    process.kill(pid, 0);
    // A reused pid would not be running that program.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(program) ? pid : null;
  } catch {
    return null;
  }
}

/** The arguments (after the CLI's path) the daemon `name` runs with, or null when it does not run. */
export function daemonArgs(name: string): string[] | null {
  const pid = daemonPid(name);
  if (!pid) return null;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return argv.slice(argv.indexOf(cliPath()) + 1);
  } catch {
    return null;
  }
}

/** Starts `lifeline <args>` (or `program <args>`) detached unless it already runs; its output goes to
 *  <data>/run/<name>.log. */
export function ensureDaemon(name: string, args: string[], program?: string): { pid: number; started: boolean } {
  const running = daemonPid(name, program);
  if (running) return { pid: running, started: false };
  mkdirSync(runDir(), { recursive: true, mode: 0o700 });
  const log = openSync(path.join(runDir(), `${name}.log`), 'a', 0o600);
  const [command, argv] = program ? [program, args] : [process.execPath, [cliPath(), ...args]];
  const child = spawn(command, argv, {
    detached: true,
    stdio: ['ignore', log, log],
    env: childEnv({ LIFELINE_EXIT_WITH_PARENT: undefined }),
  });
  closeSync(log);
  child.unref();
  writeFileSync(pidFile(name), String(child.pid), { mode: 0o600 });
  return { pid: child.pid!, started: true };
}

export async function stopDaemon(name: string): Promise<void> {
  const pid = daemonPid(name);
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100; i++) {
    if (daemonPid(name) === null) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
}

/** Resolves once something accepts connections on host:port, or fails after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await probeTcp({ host, port }, 1000)).ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

export async function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
