// `npm run bench:index`: 11.3's figures for a repository whose index lists BENCH_INDEX_ENTRIES blobs (10 million by
// default). The repository is synthetic but real: a repository made by the engine, with index files written through
// its own writer (encodeIndex: the format's JSON, zstd, AES-GCM), as prune writes them, in parts of 100,000 blobs,
// in packs of 64 blobs each (the packs themselves are not written: opening never reads them). A child process then
// opens it the way every job does, with the engine as the CLI runs it (index-measure.cjs: key derivation, config,
// every index file into the in-memory index) and reports:
//   - open: from the start of Repository.open to the index loaded (target: at most 10 s);
//   - peak memory of that process, after the lookups (VmHWM; target: at most 512 MiB), and before it opened;
//   - lookups per second, half of ids the index has and half it does not (target: at least 200,000).
// Prints a Markdown table for docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { encodeIndex, type IndexedPack } from '@/lib/engine/repository/index-file';
import { initRepository } from '@/lib/engine/repository/open-repository';

const ENTRIES = Number(process.env.BENCH_INDEX_ENTRIES ?? 10_000_000);
const PART = 100_000;
const PER_PACK = 64;
const PASSWORD = 'bench index passphrase';
const WORK = path.join(__dirname, 'work-index');

/** Deterministic blob ids: SHA-256 of the entry's number, so the measuring process can ask for ids that exist. */
function blobIdOf(n: number): string {
  return createHash('sha256').update(`blob ${n}`).digest('hex');
}

async function build(location: string): Promise<void> {
  const repo = await initRepository(location, PASSWORD);
  let n = 0;
  while (n < ENTRIES) {
    const packs: IndexedPack[] = [];
    for (let inPart = 0; inPart < PART && n < ENTRIES; ) {
      const blobs = [];
      for (let i = 0; i < PER_PACK && n < ENTRIES; i++, inPart++, n++)
        blobs.push({ type: 'data' as const, id: blobIdOf(n), offset: i * 65_536, length: 65_536, rawLength: 65_600 });
      packs.push({ id: randomBytes(32).toString('hex'), blobs });
    }
    await repo.putNamed('index', encodeIndex(repo.key.encryption, { supersedes: [], packs }));
    if (n % 1_000_000 === 0) process.stderr.write(`built ${n.toLocaleString('en')} entries\n`);
  }
}

async function main(): Promise<void> {
  const location = path.join(WORK, 'repo');
  // BENCH_KEEP=1 keeps the repository built; a later run with it set again measures that one instead of building.
  const reuse = process.env.BENCH_KEEP && existsSync(path.join(location, 'config'));
  if (!reuse) {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
  }
  try {
    const t = performance.now();
    if (!reuse) await build(location);
    process.stderr.write(`built in ${((performance.now() - t) / 1000).toFixed(0)} s; measuring\n`);
    const measuring = path.join(__dirname, 'index-measure.cjs');
    const r = spawnSync(process.execPath, [measuring, location, String(ENTRIES), PASSWORD], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) throw new Error(`the measuring process failed (${r.status}): ${r.stderr.slice(-2000)}`);
    const { openMs, baseline, peak, lookupsPerSecond } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const peakMiB = peak / 1024 / 1024;
    const row = (what: string, value: string, target: string, met: boolean) =>
      `| ${what} | ${value} | ${target} | ${met ? 'met' : 'not met'} |`;
    console.log(`Index of ${ENTRIES.toLocaleString('en')} entries\n`);
    console.log('| figure | measured | target | |\n|---|---:|---:|---|');
    console.log(
      row('open (key, config, every index file)', `${(openMs / 1000).toFixed(1)} s`, '≤ 10 s', openMs <= 10_000),
    );
    console.log(
      row(
        'peak memory of the process',
        `${peakMiB.toFixed(0)} MiB (${(baseline / 1024 / 1024).toFixed(0)} MiB before opening)`,
        '≤ 512 MiB',
        peakMiB <= 512,
      ),
    );
    console.log(
      row(
        'lookups',
        `${Math.round(lookupsPerSecond).toLocaleString('en')}/s`,
        '≥ 200,000/s',
        lookupsPerSecond >= 200_000,
      ),
    );
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(WORK, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
