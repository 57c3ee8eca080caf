// `npm test`: the type check, unit and integration tests (vitest), then the built app in a real Chromium
// (Playwright). Ends with one line "N passed, N failed" over all of them and a non-zero exit on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';

import { ensureEtcd } from './etcd.mjs';
import { ensureHaproxy } from './haproxy.mjs';
import { ensureCeph } from './radosgw.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let passed = 0;
let failed = 0;

const started = Date.now();
/** Each step's wall time, printed at the end: CI has a 15-minute budget, and this shows where it goes. */
const timings = [];

function run(title, command, args, env = {}) {
  console.log(`\n── ${title}: ${command} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  timings.push(`${title}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return r.status === 0;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** A Debian package a test needs: installed when this runs as root, else a clear message and false. */
function ensurePackage(file, pkg, need, hint) {
  if (existsSync(file)) return true;
  const root = process.getuid?.() === 0;
  if (root && existsSync('/usr/bin/apt-get')) {
    console.log(`${file} is missing: installing Debian's ${pkg} package. ${need}.`);
    run('apt-get update', 'apt-get', ['update', '-qq']);
    if (
      run(`install ${pkg}`, 'apt-get', ['install', '-y', '-qq', pkg], { DEBIAN_FRONTEND: 'noninteractive' }) &&
      existsSync(file)
    )
      return true;
  }
  console.error(`${need} at ${file}. Install it with: sudo apt-get install -y ${pkg}${hint ?? ''}.`);
  return false;
}

const ensureChromium = () =>
  ensurePackage(CHROMIUM, 'chromium', 'The end-to-end tests need Chromium', ' (or set CHROMIUM_PATH)');

mkdirSync('test-results', { recursive: true });
rmSync('test-results/waits', { recursive: true, force: true });

// Next's route types first (as its build makes them), so that tsc checks pages and routes as the build would.
const typesChecked = run('route types', 'npx', ['next', 'typegen']) && run('type check', 'npx', ['tsc', '--noEmit']);
if (typesChecked) passed++;
else failed++;
if (run('format and lint', 'npx', ['biome', 'check', '.'])) passed++;
else failed++;
if (run('test hygiene: no sleeps, no retries', 'node', ['scripts/check-tests.mjs'])) passed++;
else failed++;

// The memory test (11.1) measures the process tree's peak with GNU time; without it that test says so and fails.
ensurePackage('/usr/bin/time', 'time', 'The memory test (11.1) needs GNU time');
// The S3 tests run against a throw-away radosgw (scripts/radosgw.mjs) from Debian's Ceph packages; without them
// those tests fail, saying how to install them.
// Likewise the coordination tests, against a throw-away etcd (scripts/etcd.mjs) from Debian's etcd-server, and
// the load-balancer example, with Debian's haproxy.
for (const ensure of [ensureCeph, ensureEtcd, ensureHaproxy]) {
  try {
    ensure();
  } catch (err) {
    console.error(err.message);
  }
}
// The app is built for the end-to-end tests while vitest runs: vitest's tests spend much of their time waiting on
// processes and sockets, and the build takes the CPU they leave. Its output is shown once vitest is done. Types
// were checked above, so the build does not check them again (next.config.ts).
const e2eWanted = process.env.SKIP_E2E !== '1' && ensureChromium();
const appBuild = e2eWanted ? startBuild() : null;

function startBuild() {
  if (!run('build the engine', 'node', ['scripts/build-engine.mjs'])) return Promise.resolve(false);
  const log = 'test-results/build.log';
  const out = openSync(log, 'w');
  const t0 = Date.now();
  const child = spawn('npx', ['next', 'build'], {
    stdio: ['ignore', out, out],
    env: { ...process.env, ...(typesChecked ? { LIFELINE_TYPES_CHECKED: '1' } : {}) },
  });
  closeSync(out);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      console.error(`the app could not be built: ${err.message}`);
      resolve(false);
    });
    child.on('close', (code) => {
      console.log(`\n── build the app (beside the vitest run): npx next build\n${readFileSync(log, 'utf8')}`);
      // Its log was last written when it ended (this process waits on vitest meanwhile, and hears of it later).
      timings.push(`build the app (beside vitest): ${((statSync(log).mtimeMs - t0) / 1000).toFixed(0)} s`);
      resolve(code === 0);
    });
  });
}

rmSync('test-results/vitest.json', { force: true });
const vitestOk = run('unit and integration tests', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  '--outputFile.json=test-results/vitest.json',
]);
const vitest = readJson('test-results/vitest.json');
if (vitest) {
  passed += vitest.numPassedTests;
  failed += vitest.numFailedTests + (vitest.numRuntimeErrorTestSuites ?? 0);
  if (vitest.numTotalTests === 0) failed++;
  // A hook that failed (an afterAll, say) fails its file and vitest's run, with every test in it passed.
  else if (!vitestOk && vitest.numFailedTests + (vitest.numRuntimeErrorTestSuites ?? 0) === 0) {
    console.error('vitest failed outside any test (a hook, or an unhandled error): counted as one failure');
    failed++;
  }
} else {
  console.error('vitest produced no report');
  failed++;
}

if (process.env.SKIP_E2E === '1') {
  console.log('\nSKIP_E2E=1: end-to-end tests not run');
} else if (!e2eWanted || !(await appBuild)) {
  failed++;
} else {
  rmSync('test-results/e2e.json', { force: true });
  run('end-to-end tests', 'npx', ['playwright', 'test']);
  const e2e = readJson('test-results/e2e.json');
  if (e2e?.stats) {
    passed += e2e.stats.expected;
    failed += e2e.stats.unexpected + e2e.stats.flaky;
    if (e2e.stats.expected + e2e.stats.unexpected + e2e.stats.flaky === 0) failed++;
  } else {
    console.error('playwright produced no report');
    failed++;
  }
}

// How close each wait came to its timeout in this run (information: timeouts are set from loaded runs).
run('waits with the least headroom', 'node', ['scripts/wait-report.mjs', '--top', '10']);

console.log(`\nwall time: ${timings.join(' · ')} · total ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
