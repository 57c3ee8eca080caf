#!/usr/bin/env node
// Benchmark: backing up a large live SQLite database while a process writes to it 200 times a second, in each
// journal mode, lifeline (a consistent copy through SQLite's backup API: one step in WAL mode, short steps with a
// restart budget and then one step with a rollback journal) beside restic (which reads the live file without a
// lock, so its copy may be inconsistent). Reported: how long the backup took, and the writers' commit latency
// while it ran (p50, p99, max), against the same writer with no backup running.
//
//   npm run bench:sqlite                     (builds dist/ first; a 1 GiB database per mode)
//   BENCH_SQLITE_MB=256 node bench/sqlite-copy.mjs
//
// Writes to bench/work/sqlite-copy/ (git-ignored) and prints a table; docs/benchmarks.md has the last run.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORK = path.join(ROOT, 'bench', 'work', 'sqlite-copy');
const LIFELINE = path.join(ROOT, 'bin', 'lifeline.cjs');
const RESTIC = process.env.RESTIC_BIN ?? '/usr/bin/restic';
const PASSWORD = 'bench-passphrase-not-secret';
const MB = Number(process.env.BENCH_SQLITE_MB ?? '1024');
const RATE = 200;

/** The writer: one small transaction every 1/RATE s; prints each commit's latency in ms. */
const WRITER = `
const Database = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'better-sqlite3'))});
const [file, rate] = process.argv.slice(1);
const db = new Database(file);
db.pragma('busy_timeout = 30000');
const insert = db.prepare('INSERT INTO events (at, body) VALUES (?, ?)');
const every = 1000 / Number(rate);
let next = performance.now();
const tick = () => {
  const started = performance.now();
  insert.run(Date.now(), 'an event of the day, as an application writes it');
  process.stdout.write((performance.now() - started).toFixed(3) + '\\n');
  next += every;
  setTimeout(tick, Math.max(0, next - performance.now()));
};
process.on('SIGTERM', () => { db.close(); process.exit(0); });
tick();
`;

function makeDatabase(file, journal) {
  const db = new Database(file);
  db.pragma(`journal_mode = ${journal}`);
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER, body TEXT)');
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, b BLOB)');
  const fill = db.prepare('INSERT INTO filler (b) VALUES (randomblob(?))');
  const rows = Math.ceil((MB * 1024 * 1024) / 8000);
  for (let done = 0; done < rows; done += 10_000) {
    db.transaction(() => {
      for (let i = done; i < Math.min(rows, done + 10_000); i++) fill.run(8000);
    })();
  }
  db.close();
}

function startWriter(file) {
  const child = spawn(process.execPath, ['-e', WRITER, file, String(RATE)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const latencies = [];
  let buffer = '';
  child.stdout.on('data', (d) => {
    buffer += d;
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const l of lines) latencies.push(Number(l));
  });
  return {
    latencies,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { writes: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) };
}

/** Runs `command` while the writer writes; the latencies recorded during it. */
async function whileWriting(file, label, command) {
  const writer = startWriter(file);
  // Let the writer settle first.
  await new Promise((r) => setTimeout(r, 1000));
  const from = writer.latencies.length;
  const started = performance.now();
  // Run asynchronously: the writer's latencies must keep being read while the backup runs.
  const result = command
    ? await new Promise((resolve) => {
        const child = spawn(command[0], command.slice(1), { env: command.env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.once('exit', (status) => resolve({ status, stderr }));
      })
    : await new Promise((r) => setTimeout(() => r(null), 5000));
  const seconds = (performance.now() - started) / 1000;
  const during = writer.latencies.slice(from);
  await writer.stop();
  if (result && result.status !== 0) throw new Error(`${label} failed: ${result.stderr}`);
  return { label, seconds, ...summary(during) };
}

async function main() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const rows = [];
  for (const journal of ['WAL', 'DELETE']) {
    const dir = path.join(WORK, journal.toLowerCase());
    mkdirSync(dir);
    const file = path.join(dir, 'app.db');
    console.error(`making a ${MB} MiB database in ${journal} mode…`);
    makeDatabase(file, journal);
    const lrepo = path.join(WORK, `repo-lifeline-${journal}`);
    const rrepo = path.join(WORK, `repo-restic-${journal}`);
    const env = { ...process.env, LIFELINE_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD };
    spawnSync(process.execPath, [LIFELINE, 'init', '--repo', lrepo], { env });
    spawnSync(RESTIC, ['init', '--repo', rrepo, '--repository-version', '2'], { env });
    const lifeline = Object.assign(
      [process.execPath, LIFELINE, 'backup', '--repo', lrepo, '--cache-dir', path.join(WORK, 'cache'), dir],
      { env },
    );
    const restic = Object.assign(
      [RESTIC, 'backup', '--repo', rrepo, '--cache-dir', path.join(WORK, 'restic-cache'), dir],
      {
        env,
      },
    );
    rows.push({ journal, ...(await whileWriting(file, 'no backup (5 s)', null)) });
    rows.push({ journal, ...(await whileWriting(file, 'lifeline backup', lifeline)) });
    rows.push({ journal, ...(await whileWriting(file, 'restic backup', restic)) });
    rmSync(dir, { recursive: true, force: true });
    rmSync(lrepo, { recursive: true, force: true });
    rmSync(rrepo, { recursive: true, force: true });
  }
  const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  console.log(`\nA ${MB} MiB SQLite database, written ${RATE} times a second during each run\n`);
  console.log('| journal | run | time (s) | writes | writer p50 (ms) | writer p99 (ms) | writer max (ms) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.journal} | ${r.label} | ${r.seconds.toFixed(1)} | ${r.writes} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} |`,
    );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
