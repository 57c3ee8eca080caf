#!/usr/bin/env node
// Benchmark 11.2: a tree of millions of files. Makes a tree of BENCH_FILES small files (3 million by default; each
// holds its own number, so every file is a new blob), 1,000 to a directory, then backs it up with lifeline and with
// restic into fresh repositories, then backs it up again unchanged, and reports each run's wall time and the peak
// resident memory of its process tree (GNU time's %M).
//
//   npm run bench:files                          (builds dist/ first)
//   BENCH_FILES=300000 node bench/many-files.mjs  (a smaller tree)
//
// The budget for 3 million files (11.2): a first backup within 10 minutes and 1 GiB, an unchanged one within 3
// minutes and 1 GiB, on the machine docs/benchmarks.md describes. Prints a Markdown table for docs/benchmarks.md and writes
// bench/many-files-results.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { measured, requireGnuTime } from './gnu-time.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORK = path.join(ROOT, 'bench', 'work-files');
const RESTIC = process.env.RESTIC_BIN ?? '/usr/bin/restic';
const CLI = path.join(ROOT, 'bin', 'lifeline.cjs');
const PASSWORD = 'bench files passphrase';
const MiB = 1024 ** 2;
const FILES = Number(process.env.BENCH_FILES ?? 3_000_000);
const PER_DIR = 1000;
const BUDGET = { firstMs: 10 * 60_000, againMs: 3 * 60_000, bytes: 1024 * MiB };

requireGnuTime();
const withRestic = existsSync(RESTIC);
if (!withRestic) console.error(`restic not found at ${RESTIC} (sudo apt-get install -y restic): lifeline only`);

/** The tree: top/NNN/MMM/fK, 1,000 files to a directory. */
function makeTree(root) {
  const started = performance.now();
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(root, String(Math.floor(i / (PER_DIR * 100))), String(Math.floor(i / PER_DIR) % 100));
    if (i % PER_DIR === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `f${i}`), `file ${i}\n`);
    if (i > 0 && i % 500_000 === 0) console.error(`made ${i.toLocaleString('en')} files`);
  }
  console.error(`made ${FILES.toLocaleString('en')} files in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

function backups(tool, tree) {
  const repo = path.join(WORK, `repo-${tool}`);
  rmSync(repo, { recursive: true, force: true });
  let env;
  let backup;
  if (tool === 'lifeline') {
    env = { LIFELINE_PASSWORD: PASSWORD };
    spawnSync(process.execPath, [CLI, 'init', '--repo', repo], { env: { ...process.env, ...env } });
    const cache = path.join(WORK, 'cache');
    backup = () => measured(WORK, process.execPath, [CLI, 'backup', '--repo', repo, '--cache-dir', cache, tree], env);
  } else {
    env = { RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(WORK, 'restic-cache') };
    spawnSync(RESTIC, ['init', '--repo', repo, '--repository-version', '2'], { env: { ...process.env, ...env } });
    backup = () => measured(WORK, RESTIC, ['backup', '--repo', repo, '--quiet', tree], env);
  }
  const first = backup();
  console.error(
    `${tool} first: ${(first.wallMs / 1000).toFixed(0)} s, peak ${(first.peakRssBytes / MiB).toFixed(0)} MiB`,
  );
  const again = backup();
  console.error(
    `${tool} again: ${(again.wallMs / 1000).toFixed(0)} s, peak ${(again.peakRssBytes / MiB).toFixed(0)} MiB`,
  );
  rmSync(repo, { recursive: true, force: true });
  return { tool, first, again };
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
const rows = [];
try {
  const tree = path.join(WORK, 'tree');
  makeTree(tree);
  for (const tool of withRestic ? ['lifeline', 'restic'] : ['lifeline']) rows.push(backups(tool, tree));
} finally {
  if (!process.env.BENCH_KEEP) rmSync(WORK, { recursive: true, force: true });
}

const s = (ms) => `${(ms / 1000).toFixed(0)} s`;
const m = (bytes) => `${(bytes / MiB).toFixed(0)} MiB`;
const lines = [
  `Tree of ${FILES.toLocaleString('en')} files, ${PER_DIR.toLocaleString('en')} to a directory\n`,
  '| tool | first backup | peak | unchanged backup | peak |',
  '|---|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.tool} | ${s(r.first.wallMs)} | ${m(r.first.peakRssBytes)} | ${s(r.again.wallMs)} | ${m(r.again.peakRssBytes)} |`,
  ),
];
console.log(lines.join('\n'));
const ours = rows.find((r) => r.tool === 'lifeline');
if (FILES >= 3_000_000) {
  const met =
    ours.first.wallMs <= BUDGET.firstMs &&
    ours.again.wallMs <= BUDGET.againMs &&
    Math.max(ours.first.peakRssBytes, ours.again.peakRssBytes) <= BUDGET.bytes;
  console.log(`\n11.2 budget (first ≤ 10 min, unchanged ≤ 3 min, each ≤ 1 GiB): ${met ? 'met' : 'NOT met'}`);
}
writeFileSync(
  path.join(ROOT, 'bench', 'many-files-results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), files: FILES, rows }, null, 2)}\n`,
);
