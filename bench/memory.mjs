#!/usr/bin/env node
// Benchmark 11.1: peak memory does not grow with file size. Backs up one file of random bytes (AES-CTR keystream:
// nothing to deduplicate or compress) of 1 GiB and of 8 GiB, each into a fresh repository, with lifeline and with
// restic, and reports the peak resident memory of each process tree (GNU time's %M) and its wall time.
//
//   npm run bench:memory                 (builds dist/ first)
//   BENCH_MEMORY_SIZES=1,8 node bench/memory.mjs   (sizes in GiB; the acceptance pair by default)
//
// Writes bench/memory-results.json and prints a Markdown table for docs/benchmarks.md. The acceptance: lifeline's
// peaks for the two sizes differ by less than 16 MiB.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { measured, requireGnuTime } from './gnu-time.mjs';
import { keystream } from './seeded.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORK = path.join(ROOT, 'bench', 'work-memory');
const RESTIC = process.env.RESTIC_BIN ?? '/usr/bin/restic';
const CLI = path.join(ROOT, 'bin', 'lifeline.cjs');
const PASSWORD = 'bench memory passphrase';
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const sizes = (process.env.BENCH_MEMORY_SIZES ?? '1,8').split(',').map(Number);

requireGnuTime();
const withRestic = existsSync(RESTIC);
if (!withRestic) console.error(`restic not found at ${RESTIC} (sudo apt-get install -y restic): lifeline only`);

function randomFile(file, bytes, seed) {
  const fd = openSync(file, 'w');
  const stream = keystream(seed);
  try {
    for (let done = 0; done < bytes; ) {
      const block = stream(Math.min(16 * MiB, bytes - done));
      writeSync(fd, block);
      done += block.length;
    }
  } finally {
    closeSync(fd);
  }
}

function run(tool, file) {
  const repo = path.join(WORK, `repo-${tool}`);
  rmSync(repo, { recursive: true, force: true });
  if (tool === 'lifeline') {
    const env = { LIFELINE_PASSWORD: PASSWORD };
    spawnSync(process.execPath, [CLI, 'init', '--repo', repo], { env: { ...process.env, ...env } });
    const cache = path.join(WORK, 'cache');
    return measured(WORK, process.execPath, [CLI, 'backup', '--repo', repo, '--cache-dir', cache, '--json', file], env);
  }
  const env = { RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(WORK, 'restic-cache') };
  spawnSync(RESTIC, ['init', '--repo', repo, '--repository-version', '2'], { env: { ...process.env, ...env } });
  return measured(WORK, RESTIC, ['backup', '--repo', repo, '--json', file], env);
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
const rows = [];
try {
  for (const gib of sizes) {
    const file = path.join(WORK, `random-${gib}g.bin`);
    randomFile(file, Math.round(gib * GiB), `memory-${gib}`);
    for (const tool of withRestic ? ['lifeline', 'restic'] : ['lifeline']) {
      const m = run(tool, file);
      rows.push({ tool, gib, ...m });
      console.error(
        `${tool} ${gib} GiB: peak ${(m.peakRssBytes / MiB).toFixed(0)} MiB, ${(m.wallMs / 1000).toFixed(1)} s`,
      );
      rmSync(path.join(WORK, `repo-${tool}`), { recursive: true, force: true });
    }
    rmSync(file, { force: true });
  }
} finally {
  if (!process.env.BENCH_KEEP) rmSync(WORK, { recursive: true, force: true });
}

const peak = (tool, gib) => rows.find((r) => r.tool === tool && r.gib === gib)?.peakRssBytes;
const lines = [
  `| tool | ${sizes.map((g) => `peak, ${g} GiB file`).join(' | ')} | difference | ${sizes.map((g) => `time, ${g} GiB`).join(' | ')} |`,
  `|---|${sizes.map(() => '---:').join('|')}|---:|${sizes.map(() => '---:').join('|')}|`,
];
for (const tool of withRestic ? ['lifeline', 'restic'] : ['lifeline']) {
  const peaks = sizes.map((g) => peak(tool, g));
  const times = sizes.map((g) => rows.find((r) => r.tool === tool && r.gib === g).wallMs);
  lines.push(
    `| ${tool} | ${peaks.map((p) => `${(p / MiB).toFixed(0)} MiB`).join(' | ')} | ${((Math.max(...peaks) - Math.min(...peaks)) / MiB).toFixed(0)} MiB | ${times.map((t) => `${(t / 1000).toFixed(1)} s`).join(' | ')} |`,
  );
}
const lifelinePeaks = sizes.map((g) => peak('lifeline', g));
const spread = Math.max(...lifelinePeaks) - Math.min(...lifelinePeaks);
writeFileSync(
  path.join(ROOT, 'bench', 'memory-results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), sizesGiB: sizes, rows, lifelineSpreadBytes: spread }, null, 2)}\n`,
);
console.log(lines.join('\n'));
console.log(
  `\n11.1: lifeline's peaks differ by ${(spread / MiB).toFixed(1)} MiB (target: under 16 MiB): ${spread < 16 * MiB ? 'met' : 'NOT met'}`,
);
