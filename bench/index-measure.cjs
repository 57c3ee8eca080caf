// The measuring half of bench/index-scale.ts: opens the repository built there with the engine as the CLI runs it
// (dist/engine.cjs on plain node), then looks ids up, and prints its figures as one JSON line. Peak memory (VmHWM)
// is read after the lookups: the first lookup builds the table's lookup order.
const { createHash, randomBytes } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');

const { openRepository } = require('../dist/engine.cjs');

const [location, entries, password] = process.argv.slice(2);
const ENTRIES = Number(entries);
const LOOKUPS = 1_000_000;
const BATCH = 10_000;

const blobIdOf = (n) => createHash('sha256').update(`blob ${n}`).digest('hex');
const peakRss = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;

async function main() {
  const baseline = peakRss();
  const started = performance.now();
  const repo = await openRepository(location, password);
  await repo.loadIndex();
  const openMs = performance.now() - started;
  // In batches, so that the ids asked for cost little memory of their own; only the lookups are timed.
  let lookupMs = 0;
  let found = 0;
  for (let batch = 0; batch < LOOKUPS / BATCH; batch++) {
    const ids = Array.from({ length: BATCH }, (_, i) =>
      i % 2 === 0 ? blobIdOf(Math.floor(Math.random() * ENTRIES)) : randomBytes(32).toString('hex'),
    );
    const t0 = performance.now();
    for (const id of ids) if (repo.index.get(id)) found++;
    lookupMs += performance.now() - t0;
  }
  if (found !== LOOKUPS / 2) throw new Error(`expected ${LOOKUPS / 2} hits, got ${found}`);
  console.log(JSON.stringify({ openMs, baseline, peak: peakRss(), lookupsPerSecond: LOOKUPS / (lookupMs / 1000) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
