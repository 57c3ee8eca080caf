// 11.1: a backup's memory does not grow with the size of a file. The CLI backs up one file of random bytes (nothing
// to deduplicate or compress) of 64 MiB and then of 512 MiB, each into a fresh repository, and GNU time reports the
// peak resident memory of the whole process tree (the CLI, its worker threads, anything it starts). `npm run bench`
// does the same with 1 GiB and 8 GiB.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { CLI, cli, PASSWORD, tempDir } from './helpers';

const GNU_TIME = '/usr/bin/time';
const MiB = 1024 * 1024;

function randomFile(file: string, bytes: number): void {
  const fd = openSync(file, 'w');
  const block = Buffer.allocUnsafe(4 * MiB);
  try {
    for (let done = 0; done < bytes; done += block.length) writeSync(fd, randomFillSync(block));
  } finally {
    closeSync(fd);
  }
}

/** Backs up a random file of `bytes` into a new repository; the peak memory of the process tree, in bytes. */
function peakBackingUp(bytes: number): number {
  const dir = tempDir('memory');
  const repo = path.join(dir, 'repo');
  const file = path.join(dir, 'random.bin');
  try {
    expect(cli(['init', '--repo', repo, '--json']).code).toBe(0);
    randomFile(file, bytes);
    const timeFile = path.join(dir, 'time');
    const r = spawnSync(
      GNU_TIME,
      ['-f', '%M', '-o', timeFile, process.execPath, CLI, 'backup', '--repo', repo, '--json', file],
      { env: { ...process.env, LIFELINE_PASSWORD: PASSWORD }, encoding: 'utf8', timeout: 300_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const result = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; summary?: { bytes: number } })
      .find((l) => l.type === 'result');
    expect(result?.summary?.bytes).toBe(bytes);
    return Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) * 1024;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('11.1 memory does not grow with file size', () => {
  it('11.1 peak memory backing up a 64 MiB and a 512 MiB random file differs by less than 16 MiB', () => {
    if (!existsSync(GNU_TIME))
      throw new Error(`this test measures memory with GNU time (${GNU_TIME}): sudo apt-get install -y time`);
    const small = peakBackingUp(64 * MiB);
    const large = peakBackingUp(512 * MiB);
    console.log(
      `peak memory: 64 MiB file ${(small / MiB).toFixed(0)} MiB, 512 MiB file ${(large / MiB).toFixed(0)} MiB`,
    );
    expect(large - small).toBeLessThan(16 * MiB);
  }, 600_000);
});
