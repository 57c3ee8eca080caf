// Runs a command under GNU time and returns its wall time and the peak resident memory of its process tree (%M).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const GNU_TIME = '/usr/bin/time';

/** Exits with a clear message where GNU time is not installed. */
export function requireGnuTime() {
  if (existsSync(GNU_TIME)) return;
  console.error(`GNU time is needed at ${GNU_TIME}: sudo apt-get install -y time`);
  process.exit(2);
}

/** `work`: a directory for GNU time's output file. Throws if the command fails. */
export function measured(work, cmd, args, env) {
  const timeFile = path.join(work, 'time.txt');
  const started = performance.now();
  const r = spawnSync(GNU_TIME, ['-f', '%M', '-o', timeFile, cmd, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const wallMs = performance.now() - started;
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args[0]} failed (${r.status}): ${r.stderr.slice(-500)}`);
  const peak = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) * 1024;
  return { peakRssBytes: peak, wallMs };
}
