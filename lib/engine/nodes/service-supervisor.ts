// Runs the guarded service as a child process in a process group of its own: starts it (waiting for its health
// check), stops it (its stop signal to the whole group, then SIGKILL to the group after a grace period, and to what
// is left of it once the service's own process is gone), checks its health, and reports an exit the moment it
// happens.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';

import type { ServiceConfig } from './agent-config';
import { childEnv } from '../child-env';
import { runHook } from '../run-hook';
import { probeHttp, probeTcp } from './health-probe';
import { type ServiceLog, StartOutput } from './service-log';

export interface ServiceExit {
  at: number;
  code: number | null;
  signal: string | null;
}

export interface RunningService {
  child: ChildProcess;
  port: number;
  exited: Promise<ServiceExit>;
}

function fill(text: string, vars: { port: number; dataDir: string }): string {
  return text.replaceAll('{port}', String(vars.port)).replaceAll('{dataDir}', vars.dataDir);
}

/** The service's command line as it runs on its own port and data. */
export function serviceArgv(service: ServiceConfig): string[] {
  return service.command.map((c) => fill(c, { port: service.port, dataDir: service.dataDir }));
}

/** Checks the service's health once: its HTTP path answers 2xx, or its port accepts a connection. */
export async function checkServiceHealth(service: ServiceConfig, port: number, timeoutMs = 1000): Promise<boolean> {
  const result =
    'httpPath' in service.health
      ? await probeHttp(`http://${service.host}:${port}${service.health.httpPath}`, timeoutMs)
      : await probeTcp({ host: service.host, port }, timeoutMs);
  return result.ok;
}

/** Starts the service on `port` with its data in `dataDir`; resolves once it is healthy, or fails (and stops
 *  it) if it exits or is not healthy within its start timeout. */
export async function startService(
  service: ServiceConfig,
  vars: { port: number; dataDir: string },
  /** Told the service's process group as soon as it exists, before it is healthy (the watchdog guards it). */
  onSpawn?: (pgid: number) => void,
  /** Where its output goes on the node (without one, only a failed start's error keeps any of it). */
  log?: ServiceLog,
): Promise<RunningService> {
  await mkdir(vars.dataDir, { recursive: true, mode: 0o700 });
  const [command, ...args] = service.command.map((c) => fill(c, vars));
  const env = Object.fromEntries(Object.entries(service.env).map(([k, v]) => [k, fill(v, vars)]));
  // In a process group of its own, which a stop signals and kills whole: a child the service started (a worker, or
  // the real server behind a wrapper) must never go on serving after a failover.
  const child = spawn(command, args, {
    cwd: service.cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid) onSpawn?.(child.pid);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // Both streams, read always (a service whose pipe fills up would block), kept on the node in order.
  const output = new StartOutput();
  for (const stream of [child.stdout!, child.stderr!])
    stream.on('data', (d: Buffer) => {
      log?.write(d);
      output.add(d.toString('utf8'));
    });
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ at: Date.now(), code, signal }));
    child.once('error', (err) => {
      output.add(`error: ${err.message}\n`);
      resolve({ at: Date.now(), code: null, signal: null });
    });
  });
  const running: RunningService = { child, port: vars.port, exited };
  const deadline = Date.now() + service.startTimeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline && !gone) {
    if (await checkServiceHealth(service, vars.port, 500)) return running;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stopService(service, running);
  // What it printed last, before saying why: its pipes close once it is gone (bounded: a process it left behind
  // may hold them open).
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 1000)))]);
  clearTimeout(timer);
  const why = gone ? 'it exited' : `it was not healthy within ${service.startTimeoutMs} ms`;
  const errorLine = output.errorLine();
  throw new Error(
    `the service did not start: ${why}${errorLine ? `: ${errorLine}` : ''}${log ? ` (its whole output: ${log.file})` : ''}`,
  );
}

/** Stops the service: its stop hook if it has one (given the service's pid), else its stop signal; SIGKILL if it
 *  is still running after its grace period either way. */
export async function stopService(service: ServiceConfig, running: RunningService): Promise<ServiceExit> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) {
    // The service's own process is gone; what it started may not be.
    signalGroup(running, 'SIGKILL');
    const exit = await running.exited;
    await groupGone(running);
    return exit;
  }
  const timer = setTimeout(() => signalGroup(running, 'SIGKILL'), service.stopTimeoutMs);
  if (service.stopCommand) {
    const env = childEnv({ SERVICE_PID: String(running.child.pid), SERVICE_PORT: String(running.port) });
    void runHook(service.stopCommand, Math.ceil(service.stopTimeoutMs / 1000), env).then((r) => {
      // A hook that failed leaves the signal to do the job.
      if (!r.ok) signalGroup(running, service.stopSignal as NodeJS.Signals);
    });
  } else {
    signalGroup(running, service.stopSignal as NodeJS.Signals);
  }
  const exit = await running.exited;
  clearTimeout(timer);
  // Whatever of the group outlived the service's own process (a child that ignored the signal) goes now.
  signalGroup(running, 'SIGKILL');
  await groupGone(running);
  return exit;
}

/** Resolves once no process of the service's group runs any more (a killed process dies when it is next
 *  scheduled, which on a loaded machine is not at once), or after `boundMs`. A stop that returned while a child
 *  still ran could let it answer one more request after the node gave up the primary's role. Reads /proc; where
 *  there is none, it returns at once. */
async function groupGone(running: RunningService, boundMs = 5000): Promise<void> {
  const pgid = running.child.pid;
  if (!pgid) return;
  const deadline = Date.now() + boundMs;
  while (await groupRuns(pgid)) {
    if (Date.now() >= deadline) {
      console.error(`processes of the service's group ${pgid} still run ${boundMs} ms after SIGKILL`);
      return;
    }
    // Again: a process the group forked after the last signal has not had one.
    signalGroup(running, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether a process of group `pgid` runs: in /proc, a process in that group whose state is not zombie or dead. */
async function groupRuns(pgid: number): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return false;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so read after its last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/** Signals the service's whole process group (its pid is the group's id: it was started detached). */
function signalGroup(running: RunningService, signal: NodeJS.Signals): void {
  const pid = running.child.pid;
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is empty.
  }
}
