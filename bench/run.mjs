#!/usr/bin/env node
// Benchmark: lifeline against restic on the same corpus, in the same run, phase by phase.
//
//   npm run bench                      (builds dist/ first, then runs this file)
//   BENCH_SCALE=0.2 node bench/run.mjs  (a smaller corpus; 1.0 ≈ 330 MB)
//   BENCH_ROUNDS=3 node bench/run.mjs   (repeat every phase; medians are reported)
//   BENCH_KEEP=1 node bench/run.mjs     (leave bench/work/ behind for inspection)
//   BENCH_CORPUS_ONLY=1 node bench/run.mjs (only build the corpus in bench/work/corpus/ and keep it)
//
// The corpus (generated deterministically from fixed seeds, under bench/work/, which is git-ignored):
//   files/   ~20,000 text files of 1–30 KB (log-uniform sizes) in nested directories, made of words taken
//            from typescript's lib/*.d.ts in node_modules: compressible, like source trees and documents;
//   db/      a SQLite database (WAL mode) that a child process keeps writing to during every phase;
//   random/  incompressible bytes (AES-CTR keystream) in three files.
//
// Phases, for both tools in every round: full backup into a fresh repository, unchanged re-backup, backup after
// a ~1% change (applied once, then backed up by both tools), restore of the latest snapshot into an empty
// directory. In a round one tool goes first in the full backup and the restore, the other in the re-backup and
// the change backup (so both get the same interval between those two); the roles swap every round.
//
// Fairness notes (also written to results.json):
//   - Before every measurement `sync` runs and, as root, the page cache is dropped (echo 3 > drop_caches): both
//     tools start cold, and neither pays for the other's writeback. Without root both read a warm cache.
//   - restic: repository format 2 (`--repository-version 2`), default compression "auto" (zstd at the klauspost
//     "default" speed, about zstd level 3; lifeline uses zstd level 3), default pack size, its cache in
//     bench/work/restic-cache (RESTIC_CACHE_DIR). Both tools may use several cores; CPU time is reported.
//   - restic reads the live SQLite file and its -wal/-shm beside it (no consistent copy); lifeline copies the
//     database through SQLite's backup API (`--sqlite`), so its backup of the database is consistent.
//   - Both restores check every blob as they decode it; with `--verify` both also read every restored file back,
//     timed as a row of its own.
//   - Peak memory is the maximum resident set size from GNU time (`/usr/bin/time -f %M`), "n/a" without it.
//   - Repository size is the sum of the apparent sizes of the files in the repository directory (restic's
//     cache is outside it and reported separately).
import { fork, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { createEventsTable, EVENT_KINDS, keystream, rng } from './seeded.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORK = path.join(ROOT, 'bench', 'work');
const RESULTS = path.join(ROOT, 'bench', 'results.json');
/** The CLI is run from a copy of bin/lifeline.cjs and dist/ taken at the start (see freezeEngine). */
const ENGINE = path.join(WORK, 'engine');
const LIFELINE = path.join(ENGINE, 'bin', 'lifeline.cjs');
const RESTIC = process.env.RESTIC_BIN ?? '/usr/bin/restic';
const GNU_TIME = '/usr/bin/time';
const PASSWORD = 'bench-passphrase-not-secret';
const require = createRequire(path.join(ROOT, 'package.json'));

const MiB = 1024 * 1024;
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ROUNDS = Math.max(1, Number.parseInt(process.env.BENCH_ROUNDS ?? '1', 10) || 1);
const CORPUS_ONLY = process.env.BENCH_CORPUS_ONLY === '1';
const KEEP = process.env.BENCH_KEEP === '1' || CORPUS_ONLY;

const CORPUS = {
  files: Math.max(50, Math.round(20_000 * SCALE)),
  minFile: 1024,
  maxFile: 30 * 1024,
  dbBytes: Math.round(64 * MiB * SCALE),
  randomFiles: 3,
  randomBytesEach: Math.round(32 * MiB * SCALE),
  /** Fraction of the small files modified and of the random data overwritten or appended in the change phase. */
  change: 0.01,
};
/** The writer's steady load: one transaction every WRITER_MS updating WRITER_UPDATES rows and inserting one. */
const WRITER_MS = 100;
const WRITER_UPDATES = 5;
/** Like most applications, the writer mostly touches recent rows: this share of updates goes to the newest
 *  WRITER_HOT_FRACTION of the rows, the rest anywhere. */
const WRITER_HOT_SHARE = 0.8;
const WRITER_HOT_FRACTION = 0.02;

// ---------------------------------------------------------------------------------------------------------
// Deterministic randomness

// ---------------------------------------------------------------------------------------------------------
// Text from real words

function loadVocabulary() {
  const dir = path.join(ROOT, 'node_modules', 'typescript', 'lib');
  const words = new Set();
  let source = 'fallback syllables';
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.d.ts'))
      .sort()) {
      const text = readFileSync(path.join(dir, name), 'latin1');
      for (const w of text.match(/[A-Za-z][A-Za-z0-9]{1,23}/g) ?? []) words.add(w);
    }
    let version = '?';
    try {
      version = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8')).version;
    } catch {}
    source = `node_modules/typescript@${version}/lib/*.d.ts`;
  }
  if (words.size < 1000) {
    const r = rng('syllables');
    const syl = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'shi', 'ven', 'dor', 'al', 'is', 'em', 'ul', 'tra', 'pel', 'ox'];
    while (words.size < 20_000) {
      let w = '';
      for (let k = 1 + r.int(4); k >= 0; k--) w += syl[r.int(syl.length)];
      words.add(w);
    }
  }
  // Sorted for reproducibility, then shuffled so that the skewed pick below does not favour one letter.
  const list = [...words].sort();
  const r = rng('vocabulary');
  for (let i = list.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [list[i], list[j]] = [list[j], list[i]];
  }
  return { words: list, source };
}

const PUNCT = ['.', '.', '.', ',', ';', ':', ' {', ' }', '();', ' =>', '?', '!'];

/** About `bytes` bytes of ASCII text: lines of skew-picked words (a few words are common, most are rare). */
function makeText(r, words, bytes) {
  const n = words.length;
  const lines = [];
  let len = 0;
  while (len < bytes) {
    let line = '  '.repeat(r.int(4));
    const count = 3 + r.int(12);
    for (let k = 0; k < count; k++) {
      const u = r.float();
      line += (k ? ' ' : '') + words[Math.floor(n * u * u * u)];
    }
    line += `${PUNCT[r.int(PUNCT.length)]}\n`;
    lines.push(line);
    len += line.length;
  }
  return lines.join('').slice(0, bytes);
}

// ---------------------------------------------------------------------------------------------------------
// Corpus

const SECTIONS = ['src', 'docs', 'assets', 'lib', 'test', 'config'];
const EXTS = ['.md', '.txt', '.ts', '.js', '.json', '.css', '.html', '.log'];

function buildCorpus(corpus, vocab) {
  const r = rng('corpus-files');
  const filesDir = path.join(corpus, 'files');
  const made = new Set();
  const list = [];
  let textBytes = 0;
  for (let i = 0; i < CORPUS.files; i++) {
    // About 3,000 directories, a few files to a few dozen in each, up to five levels deep.
    let dir = path.join(filesDir, `project-${String(r.int(12)).padStart(2, '0')}`, SECTIONS[r.int(SECTIONS.length)]);
    if (r.float() < 0.6) {
      dir = path.join(dir, `module-${vocab.words[r.int(24)].toLowerCase()}`);
      if (r.float() < 0.4) dir = path.join(dir, `part-${r.int(4)}`);
    }
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    const size = Math.round(CORPUS.minFile * (CORPUS.maxFile / CORPUS.minFile) ** r.float());
    const file = path.join(
      dir,
      `${vocab.words[r.int(vocab.words.length)].toLowerCase()}-${i}${EXTS[r.int(EXTS.length)]}`,
    );
    writeFileSync(file, makeText(r, vocab.words, size));
    list.push(file);
    textBytes += size;
  }

  const randomDir = path.join(corpus, 'random');
  mkdirSync(randomDir, { recursive: true });
  const randomFiles = [];
  for (let f = 0; f < CORPUS.randomFiles; f++) {
    const file = path.join(randomDir, `blob-${f}.bin`);
    const ks = keystream(`random-${f}`);
    const fd = openSync(file, 'w');
    for (let left = CORPUS.randomBytesEach; left > 0; left -= 4 * MiB) writeSync(fd, ks(Math.min(4 * MiB, left)));
    closeSync(fd);
    randomFiles.push(file);
  }

  const dbDir = path.join(corpus, 'db');
  mkdirSync(dbDir, { recursive: true });
  const dbFile = path.join(dbDir, 'app.sqlite');
  const db = makeDatabase(dbFile, vocab.words);
  return {
    filesDir,
    randomDir,
    dbDir,
    dbFile,
    list,
    randomFiles,
    textBytes,
    randomBytes: CORPUS.randomFiles * CORPUS.randomBytesEach,
    ...db,
  };
}

function makeDatabase(file, words) {
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const insert = createEventsTable(db);
  const r = rng('corpus-db');
  const kinds = EVENT_KINDS;
  let ts = 1_700_000_000_000;
  const fill = db.transaction((rows) => {
    for (let i = 0; i < rows; i++) {
      ts += r.int(5000);
      insert.run(ts, kinds[r.int(kinds.length)], `user${r.int(5000)}`, makeText(r, words, 150 + r.int(500)));
    }
  });
  const pageSize = db.pragma('page_size', { simple: true });
  while (db.pragma('page_count', { simple: true }) * pageSize < CORPUS.dbBytes) fill(5000);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const rows = db.prepare('SELECT count(*) AS n FROM events').get().n;
  const sqliteVersion = db.prepare('SELECT sqlite_version() AS v').get().v;
  db.close();
  return { dbRows: rows, sqliteVersion };
}

/** The ~1% change: edit 1% of the small files, overwrite 0.5% and append 0.5% of the random data. */
function applyChange(c, round, words) {
  const r = rng(`change-${round}`);
  const pick = new Set();
  const want = Math.max(1, Math.round(c.list.length * CORPUS.change));
  while (pick.size < want) pick.add(r.int(c.list.length));
  let textChanged = 0;
  for (const i of pick) {
    const file = c.list[i];
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = r.int(lines.length);
    const added = makeText(r, words, 200 + r.int(800));
    lines.splice(at, r.int(3), added.trimEnd());
    writeFileSync(file, lines.join('\n'));
    textChanged += added.length;
  }
  const total = c.randomFiles.length * CORPUS.randomBytesEach;
  const region = 64 * 1024;
  const regions = Math.max(1, Math.round((total * CORPUS.change) / 2 / region));
  const ks = keystream(`change-${round}`);
  for (let k = 0; k < regions; k++) {
    const file = c.randomFiles[r.int(c.randomFiles.length)];
    const fd = openSync(file, 'r+');
    writeSync(fd, ks(region), 0, region, r.int(CORPUS.randomBytesEach - region));
    closeSync(fd);
  }
  const append = Math.round((total * CORPUS.change) / 2);
  const last = c.randomFiles[c.randomFiles.length - 1];
  const fd = openSync(last, 'a');
  writeSync(fd, ks(append));
  closeSync(fd);
  return {
    filesEdited: pick.size,
    textBytesAdded: textChanged,
    randomBytesOverwritten: regions * region,
    randomBytesAppended: append,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The SQLite writer (a child process: `node bench/run.mjs --sqlite-writer DB VOCAB`)

function runWriter(dbFile, vocabFile) {
  const Database = require('better-sqlite3');
  const words = JSON.parse(readFileSync(vocabFile, 'utf8'));
  const db = new Database(dbFile);
  db.pragma('busy_timeout = 10000');
  let maxId = db.prepare('SELECT max(id) AS m FROM events').get().m;
  const hot = Math.max(1, Math.round(maxId * WRITER_HOT_FRACTION));
  const update = db.prepare('UPDATE events SET body = ?, ts = ts + 1 WHERE id = ?');
  const insert = db.prepare("INSERT INTO events (ts, kind, actor, body) VALUES (?, 'write', ?, ?)");
  const r = rng(`writer-${process.pid}`);
  const stats = { transactions: 0, updates: 0, inserts: 0, errors: 0 };
  const step = db.transaction(() => {
    for (let k = 0; k < WRITER_UPDATES; k++) {
      const id = r.float() < WRITER_HOT_SHARE ? maxId - r.int(hot) : 1 + r.int(maxId);
      update.run(makeText(r, words, 150 + r.int(500)), id);
      stats.updates++;
    }
    maxId = Number(insert.run(Date.now(), `user${r.int(5000)}`, makeText(r, words, 150 + r.int(500))).lastInsertRowid);
    stats.inserts++;
  });
  const timer = setInterval(() => {
    try {
      step();
      stats.transactions++;
    } catch {
      stats.errors++;
    }
  }, WRITER_MS);
  process.on('message', (m) => {
    if (m !== 'stop') return;
    clearInterval(timer);
    db.close();
    process.send({ stats }, () => process.exit(0));
  });
  // The harness went away without stopping us (killed, or its output pipe closed): stop too.
  process.on('disconnect', () => {
    clearInterval(timer);
    db.close();
    process.exit(0);
  });
  process.send({ ready: true });
}

function startWriter(dbFile, vocabFile) {
  const child = fork(fileURLToPath(import.meta.url), ['--sqlite-writer', dbFile, vocabFile], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let stats = null;
  const ready = new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (m.ready) resolve();
      if (m.stats) stats = m.stats;
    });
    child.once('exit', (code) => reject(new Error(`the SQLite writer exited early (${code})`)));
  });
  return {
    child,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return stats;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timeout);
      return stats;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Measuring

function probeGnuTime() {
  if (!existsSync(GNU_TIME)) return false;
  const probe = path.join(os.tmpdir(), `bench-time-probe-${process.pid}`);
  const res = spawnSync(GNU_TIME, ['-f', '%M %U %S', '-o', probe, 'true']);
  let ok = false;
  try {
    ok = res.status === 0 && /^\d+ [\d.]+ [\d.]+\s*$/.test(readFileSync(probe, 'utf8').trim().split('\n').pop());
  } catch {}
  rmSync(probe, { force: true });
  return ok;
}

let timeCounter = 0;

/** Runs a command to completion: wall time (performance.now around the spawn), peak RSS and CPU from GNU time. */
function measure(cmd, args, env, { gnuTime }) {
  const timeFile = path.join(WORK, `time-${++timeCounter}.txt`);
  const [file, argv] = gnuTime ? [GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, cmd, ...args]] : [cmd, args];
  const busyBefore = busyCpuSeconds();
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const busy = busyBefore == null ? null : busyCpuSeconds() - busyBefore;
      let peakRssBytes = null;
      let cpuSeconds = null;
      if (gnuTime) {
        try {
          const [rss, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
          peakRssBytes = rss * 1024;
          cpuSeconds = user + sys;
        } catch {}
        rmSync(timeFile, { force: true });
      }
      // CPU that the rest of the machine used meanwhile (this harness, its SQLite writer, anything else), in CPUs.
      const otherCpus = busy == null || cpuSeconds == null ? null : Math.max(0, busy - cpuSeconds) / (wallMs / 1000);
      resolve({
        code,
        wallMs,
        peakRssBytes,
        cpuSeconds,
        otherCpus,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Bytes of the files under a directory (apparent sizes), and their allocated blocks. */
function dirSize(dir) {
  let bytes = 0;
  let allocated = 0;
  let files = 0;
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      const st = lstatSync(full);
      if (st.isDirectory()) walk(full);
      else {
        bytes += st.size;
        allocated += st.blocks * 512;
        files++;
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return { bytes, allocated, files };
}

/** A digest of a directory tree (relative paths, sizes and contents), to check a restore. */
function treeDigest(dir) {
  const h = createHash('sha256');
  let files = 0;
  let bytes = 0;
  const walk = (d, rel) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const st = lstatSync(full);
      if (st.isDirectory()) walk(full, `${rel}${name}/`);
      else {
        const data = readFileSync(full);
        h.update(`${rel}${name}\0${data.length}\0`);
        h.update(data);
        files++;
        bytes += data.length;
      }
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return { digest: h.digest('hex'), files, bytes };
}

function checkRestoredDb(file) {
  if (!existsSync(file)) return { ok: false, detail: 'missing' };
  const Database = require('better-sqlite3');
  try {
    const db = new Database(file, { fileMustExist: true });
    try {
      const check = db.pragma('quick_check', { simple: true });
      const rows = db.prepare('SELECT count(*) AS n FROM events').get().n;
      return {
        ok: check === 'ok',
        detail: check === 'ok' ? `quick_check ok, ${rows} rows` : String(check).slice(0, 200),
      };
    } finally {
      db.close();
    }
  } catch (err) {
    return { ok: false, detail: String(err.message).slice(0, 200) };
  }
}

function lastJson(stdout, pred) {
  const lines = stdout.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const v = JSON.parse(lines[i]);
      if (pred(v)) return v;
    } catch {}
  }
  return null;
}

/** Busy CPU time of the whole machine so far, from /proc/stat (USER_HZ is 100 on Linux). */
function busyCpuSeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal || 0)) / 100;
  } catch {
    return null;
  }
}

function loadAverage() {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/** Flushes dirty pages and, where the benchmark runs as root, drops the page cache, dentries and inodes: every
 *  measurement then starts cold and from the same state, instead of paying for the previous one's writeback
 *  (20,000 files created and removed per restore leave ext4 a lot to do). */
const CAN_DROP_CACHES = process.getuid?.() === 0 && existsSync('/proc/sys/vm/drop_caches');
function sync() {
  spawnSync('sync');
  if (CAN_DROP_CACHES) spawnSync('sh', ['-c', 'echo 3 > /proc/sys/vm/drop_caches']);
}

// ---------------------------------------------------------------------------------------------------------
// The tools

/** Copies bin/lifeline.cjs and dist/ into bench/work/engine so that every phase runs the same build even if
 *  dist/ is rebuilt while the benchmark runs; node_modules still resolves from the project (external packages). */
function freezeEngine() {
  mkdirSync(path.join(ENGINE, 'bin'), { recursive: true });
  cpSync(path.join(ROOT, 'bin', 'lifeline.cjs'), LIFELINE);
  cpSync(path.join(ROOT, 'dist'), path.join(ENGINE, 'dist'), { recursive: true });
  const h = createHash('sha256');
  for (const name of readdirSync(path.join(ENGINE, 'dist'))
    .filter((n) => n.endsWith('.cjs'))
    .sort())
    h.update(name).update(readFileSync(path.join(ENGINE, 'dist', name)));
  return h.digest('hex').slice(0, 16);
}

function makeTools(c, gnuTime) {
  const tmp = path.join(WORK, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const lifelineEnv = { LIFELINE_PASSWORD: PASSWORD, TMPDIR: tmp };
  const resticEnv = { RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(WORK, 'restic-cache'), TMPDIR: tmp };
  const node = process.execPath;
  const must = (what, res) => {
    if (res.code !== 0)
      throw new Error(
        `${what} failed with exit code ${res.code}\n${res.stderr.slice(-4000)}\n${res.stdout.slice(-2000)}`,
      );
    return res;
  };
  return {
    lifeline: {
      repo: path.join(WORK, 'repo-lifeline'),
      cacheDir: null,
      init: async (repo) =>
        must('lifeline init', await measure(node, [LIFELINE, 'init', '--repo', repo], lifelineEnv, { gnuTime })),
      backup: async (repo) => {
        const res = must(
          'lifeline backup',
          await measure(
            node,
            [LIFELINE, 'backup', '--repo', repo, '--json', c.filesDir, c.randomDir, '--sqlite', c.dbFile],
            lifelineEnv,
            { gnuTime },
          ),
        );
        const result = lastJson(res.stdout, (v) => v.type === 'result');
        const s = result?.summary ?? {};
        res.info = {
          filesRead: s.filesRead,
          files: s.files,
          bytes: s.bytes,
          newBytes: s.newBytes,
          newBlobs: s.newBlobs,
          warnings: result?.warnings?.length ?? null,
        };
        return res;
      },
      restore: async (repo, target, verify = false) =>
        must(
          'lifeline restore',
          await measure(
            node,
            [LIFELINE, 'restore', '--repo', repo, 'latest', '--target', target, ...(verify ? ['--verify'] : [])],
            lifelineEnv,
            { gnuTime },
          ),
        ),
    },
    restic: {
      repo: path.join(WORK, 'repo-restic'),
      cacheDir: resticEnv.RESTIC_CACHE_DIR,
      init: async (repo) =>
        must(
          'restic init',
          await measure(RESTIC, ['init', '--repo', repo, '--repository-version', '2'], resticEnv, { gnuTime }),
        ),
      backup: async (repo) => {
        const res = must(
          'restic backup',
          await measure(RESTIC, ['backup', '--repo', repo, '--json', c.filesDir, c.randomDir, c.dbDir], resticEnv, {
            gnuTime,
          }),
        );
        const s = lastJson(res.stdout, (v) => v.message_type === 'summary') ?? {};
        res.info = {
          filesNew: s.files_new,
          filesChanged: s.files_changed,
          filesUnmodified: s.files_unmodified,
          bytes: s.total_bytes_processed,
          dataAdded: s.data_added,
        };
        return res;
      },
      restore: async (repo, target, verify = false) =>
        must(
          'restic restore',
          await measure(
            RESTIC,
            ['restore', 'latest', '--repo', repo, '--target', target, ...(verify ? ['--verify'] : [])],
            resticEnv,
            { gnuTime },
          ),
        ),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reporting

const fmtBytes = (b) =>
  b == null ? 'n/a' : b >= 1024 * MiB ? `${(b / 1024 / MiB).toFixed(2)} GiB` : `${(b / MiB).toFixed(1)} MiB`;
const fmtSec = (ms) => (ms == null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const fmtCpu = (s) => (s == null ? 'n/a' : `${s.toFixed(2)} s`);
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);

function machineFacts(gnuTime, sqliteVersion, vocabSource) {
  let cpu = 'unknown';
  let memTotal = null;
  try {
    cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) ?? [])[1] ?? cpu;
  } catch {}
  try {
    memTotal = Number((readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s*(\d+) kB/m) ?? [])[1]) * 1024 || null;
  } catch {}
  const restic = spawnSync(RESTIC, ['version'], { encoding: 'utf8' });
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return {
    cpu,
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    memTotalBytes: memTotal,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    restic: restic.status === 0 ? restic.stdout.trim() : 'not found',
    sqlite: sqliteVersion,
    gnuTime: gnuTime ? GNU_TIME : 'not available (peak memory reported as n/a)',
    lifelineCommit: git.status === 0 ? git.stdout.trim() : 'unknown',
    vocabulary: vocabSource,
  };
}

function printTable(rows) {
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  for (const [k, r] of rows.entries()) {
    console.log(
      `${String(r[0]).padEnd(widths[0])}  ${String(r[1]).padStart(widths[1])}  ${String(r[2]).padStart(widths[2])}  ${String(r[3] ?? '').padStart(widths[3])}`,
    );
    if (k === 0) console.log('-'.repeat(widths.reduce((a, b) => a + b, 0) + 6));
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const t0 = performance.now();
  if (!existsSync(path.join(ROOT, 'dist', 'lifeline.cjs')))
    throw new Error('dist/lifeline.cjs is missing: run `node scripts/build-engine.mjs` (or `npm run bench`)');
  if (!existsSync(RESTIC))
    throw new Error(`restic not found at ${RESTIC}: apt-get install -y restic (or set RESTIC_BIN)`);
  const gnuTime = probeGnuTime();

  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const engineHash = freezeEngine();
  let writer = null;
  const cleanup = () => {
    if (writer && writer.child.exitCode === null) writer.child.kill('SIGKILL');
    if (!KEEP) rmSync(WORK, { recursive: true, force: true });
  };
  const onSignal = (sig) => {
    console.error(`\n${sig}: stopping`);
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    console.log(`lifeline vs restic: scale ${SCALE}, ${ROUNDS} round(s), work dir ${path.relative(ROOT, WORK)}/`);
    const tc = performance.now();
    const vocab = loadVocabulary();
    const vocabFile = path.join(WORK, 'vocabulary.json');
    writeFileSync(vocabFile, JSON.stringify(vocab.words));
    const corpusDir = path.join(WORK, 'corpus');
    const c = buildCorpus(corpusDir, vocab);
    const corpusInfo = {
      smallFiles: c.list.length,
      smallFilesBytes: c.textBytes,
      sqliteBytes: dirSize(c.dbDir).bytes,
      sqliteRows: c.dbRows,
      randomFiles: c.randomFiles.length,
      randomBytes: c.randomBytes,
    };
    corpusInfo.totalBytes = corpusInfo.smallFilesBytes + corpusInfo.sqliteBytes + corpusInfo.randomBytes;
    console.log(
      `corpus: ${corpusInfo.smallFiles} text files (${fmtBytes(corpusInfo.smallFilesBytes)}), SQLite ${fmtBytes(corpusInfo.sqliteBytes)} (${corpusInfo.sqliteRows} rows), ` +
        `${corpusInfo.randomFiles} random files (${fmtBytes(corpusInfo.randomBytes)}); total ${fmtBytes(corpusInfo.totalBytes)}, built in ${fmtSec(performance.now() - tc)}`,
    );
    if (CORPUS_ONLY) {
      console.log(`BENCH_CORPUS_ONLY: corpus left in ${path.relative(ROOT, corpusDir)}/, no measurements`);
      return;
    }
    const facts = machineFacts(gnuTime, c.sqliteVersion, vocab.source);
    facts.lifelineDistSha256 = engineHash;
    facts.load1AtStart = loadAverage();
    console.log(
      `machine: ${facts.cpu}, ${facts.nproc} CPUs, ${fmtBytes(facts.memTotalBytes)} RAM, ${facts.kernel}, node ${facts.node}, ${facts.restic}, SQLite ${facts.sqlite}, GNU time: ${gnuTime ? 'yes' : 'no'}`,
    );
    console.log(
      `lifeline: commit ${facts.lifelineCommit}, dist/*.cjs sha256 ${engineHash} (copied to bench/work/engine for the run); load average ${facts.load1AtStart}`,
    );

    writer = startWriter(c.dbFile, vocabFile);
    await writer.ready;
    console.log(
      `SQLite writer running: a transaction every ${WRITER_MS} ms (${WRITER_UPDATES} updates, ${WRITER_HOT_SHARE * 100}% of them to the newest ${WRITER_HOT_FRACTION * 100}% of rows, + 1 insert)`,
    );

    const tools = makeTools(c, gnuTime);
    const names = ['lifeline', 'restic'];
    const raw = { lifeline: [], restic: [] };
    const changes = [];
    const restoreChecks = [];

    for (let round = 0; round < ROUNDS; round++) {
      const rec = { lifeline: {}, restic: {} };
      // A goes first in the full backup and the restore, B in the re-backup and the 1% change backup; A and B swap
      // every round. Keeping one order for the re-backup and the change backup gives both tools about the same time
      // between those two backups, so the SQLite writer changes the database about as much for each.
      const A = names[round % 2];
      const B = names[1 - (round % 2)];
      const order = (phase) => (phase === 'full' || phase === 'restore' || phase === 'init' ? [A, B] : [B, A]);
      const log = (tool, what, res, extra = '') =>
        console.log(
          `  round ${round + 1} ${what.padEnd(14)} ${tool.padEnd(8)} ${fmtSec(res.wallMs).padStart(9)}  cpu ${fmtCpu(res.cpuSeconds).padStart(8)}  rss ${fmtBytes(res.peakRssBytes).padStart(10)}${extra}${res.otherCpus > 0.25 ? `  (other processes busy: ${res.otherCpus.toFixed(2)} CPUs)` : ''}`,
        );

      for (const t of names) {
        rmSync(tools[t].repo, { recursive: true, force: true });
        if (tools[t].cacheDir) rmSync(tools[t].cacheDir, { recursive: true, force: true });
      }
      for (const t of order('init')) {
        const res = await tools[t].init(tools[t].repo);
        rec[t].init = { wallMs: res.wallMs };
      }
      sync();

      const backupPhase = async (key, label) => {
        for (const t of order(key)) {
          const res = await tools[t].backup(tools[t].repo);
          const repoSize = dirSize(tools[t].repo);
          rec[t][key] = {
            wallMs: res.wallMs,
            cpuSeconds: res.cpuSeconds,
            peakRssBytes: res.peakRssBytes,
            otherCpus: res.otherCpus,
            repoBytes: repoSize.bytes,
            repoAllocatedBytes: repoSize.allocated,
            repoFiles: repoSize.files,
            summary: res.info,
          };
          if (tools[t].cacheDir) rec[t][key].cacheBytes = dirSize(tools[t].cacheDir).bytes;
          log(t, label, res, `  repo ${fmtBytes(repoSize.bytes).padStart(10)}`);
          sync();
        }
      };
      await backupPhase('full', 'full backup');
      await backupPhase('rebackup', 're-backup');
      const change = applyChange(c, round, vocab.words);
      changes.push(change);
      sync();
      await backupPhase('change', '1% change');

      const expectFiles = treeDigest(c.filesDir);
      const expectRandom = treeDigest(c.randomDir);
      for (const t of order('restore')) {
        const runs = [false, true];
        for (const verify of runs) {
          const target = path.join(WORK, `restore-${t}`);
          rmSync(target, { recursive: true, force: true });
          mkdirSync(target, { recursive: true });
          sync();
          const res = await tools[t].restore(tools[t].repo, target, verify);
          const key = verify ? 'restoreVerify' : 'restore';
          rec[t][key] = {
            wallMs: res.wallMs,
            cpuSeconds: res.cpuSeconds,
            peakRssBytes: res.peakRssBytes,
            otherCpus: res.otherCpus,
          };
          log(t, verify ? 'restore+verify' : 'restore', res);
          if (!verify) {
            const at = (p) => path.join(target, p);
            const gotFiles = treeDigest(at(c.filesDir));
            const gotRandom = treeDigest(at(c.randomDir));
            const check = {
              round: round + 1,
              tool: t,
              smallFilesMatch: gotFiles.digest === expectFiles.digest,
              smallFiles: gotFiles.files,
              randomMatch: gotRandom.digest === expectRandom.digest,
              sqlite: checkRestoredDb(at(c.dbFile)),
            };
            restoreChecks.push(check);
            console.log(
              `         restored ${t}: text files ${check.smallFilesMatch ? 'identical' : 'DIFFER'} (${check.smallFiles}), random ${check.randomMatch ? 'identical' : 'DIFFER'}, SQLite ${check.sqlite.detail}`,
            );
          }
          rmSync(target, { recursive: true, force: true });
          sync();
        }
      }
      raw.lifeline.push(rec.lifeline);
      raw.restic.push(rec.restic);
    }

    const writerStats = await writer.stop();
    writer = null;

    // Summary: medians over rounds, and lifeline/restic ratios.
    const med = (t, phase, field) => median(raw[t].map((r) => r[phase]?.[field]));
    const metrics = [];
    const add = (key, label, phase, field, fmt, resticPhase = phase) => {
      const l = med('lifeline', phase, field);
      const r = med('restic', resticPhase, field);
      metrics.push({ key, label, lifeline: l, restic: r, ratio: ratio(l, r), fmt });
    };
    add('fullBackupMs', 'full backup time', 'full', 'wallMs', fmtSec);
    add('rebackupMs', 'unchanged re-backup time', 'rebackup', 'wallMs', fmtSec);
    add('changeBackupMs', '1% change backup time', 'change', 'wallMs', fmtSec);
    add('restoreMs', 'restore time', 'restore', 'wallMs', fmtSec);
    add('restoreVerifyMs', 'restore --verify time', 'restoreVerify', 'wallMs', fmtSec);
    add('fullBackupCpuS', 'full backup CPU (user+sys)', 'full', 'cpuSeconds', fmtCpu);
    add('rebackupCpuS', 're-backup CPU', 'rebackup', 'cpuSeconds', fmtCpu);
    add('changeBackupCpuS', '1% change backup CPU', 'change', 'cpuSeconds', fmtCpu);
    add('restoreCpuS', 'restore CPU', 'restore', 'cpuSeconds', fmtCpu);
    add('fullBackupPeakRss', 'peak RSS full backup', 'full', 'peakRssBytes', fmtBytes);
    add('rebackupPeakRss', 'peak RSS re-backup', 'rebackup', 'peakRssBytes', fmtBytes);
    add('changeBackupPeakRss', 'peak RSS 1% change backup', 'change', 'peakRssBytes', fmtBytes);
    add('restorePeakRss', 'peak RSS restore', 'restore', 'peakRssBytes', fmtBytes);
    add('repoBytesAfterFull', 'repo size after full', 'full', 'repoBytes', fmtBytes);
    add('repoBytesAfterRebackup', 'repo size after re-backup', 'rebackup', 'repoBytes', fmtBytes);
    add('repoBytesAfterChange', 'repo size after 1% change', 'change', 'repoBytes', fmtBytes);
    const growL = median(raw.lifeline.map((r) => r.change.repoBytes - r.rebackup.repoBytes));
    const growR = median(raw.restic.map((r) => r.change.repoBytes - r.rebackup.repoBytes));
    metrics.push({
      key: 'repoGrowthChange',
      label: 'repo growth by 1% change',
      lifeline: growL,
      restic: growR,
      ratio: ratio(growL, growR),
      fmt: fmtBytes,
    });
    const tput = (t) => {
      const ms = med(t, 'full', 'wallMs');
      return ms ? corpusInfo.totalBytes / MiB / (ms / 1000) : null;
    };
    metrics.push({
      key: 'fullBackupMiBps',
      label: 'full backup throughput',
      lifeline: tput('lifeline'),
      restic: tput('restic'),
      ratio: ratio(tput('lifeline'), tput('restic')),
      fmt: (v) => (v == null ? 'n/a' : `${v.toFixed(1)} MiB/s`),
    });

    console.log(
      `\nResults (${ROUNDS > 1 ? `median of ${ROUNDS} rounds` : 'one round'}; ratio = lifeline / restic, < 1 means lifeline is faster or smaller)\n`,
    );
    printTable([
      ['metric', 'lifeline', 'restic', 'ratio'],
      ...metrics.map((m) => [
        m.label,
        m.fmt(m.lifeline),
        m.fmt(m.restic),
        m.ratio == null ? 'n/a' : m.ratio.toFixed(2),
      ]),
    ]);
    const resticCache = median(raw.restic.map((r) => r.change.cacheBytes));
    console.log(`\nrestic's local cache after the 1% change backup (not in the repo size): ${fmtBytes(resticCache)}`);
    const others = names
      .flatMap((t) => raw[t].flatMap((r) => Object.values(r).map((m) => m.otherCpus)))
      .filter((x) => typeof x === 'number');
    const maxOther = others.length ? Math.max(...others) : null;
    console.log(
      `CPU used by other processes during the measurements (incl. the SQLite writer): ${others.length ? `${Math.min(...others).toFixed(2)} to ${maxOther.toFixed(2)} CPUs` : 'n/a'} of ${facts.nproc}`,
    );
    if (maxOther != null && maxOther > 0.25)
      console.log(
        'WARNING: other processes were busy during some measurements; those timings are disturbed (otherCpus in results.json).',
      );
    console.log(
      `SQLite writer: ${writerStats ? `${writerStats.transactions} transactions, ${writerStats.updates} updates, ${writerStats.inserts} inserts, ${writerStats.errors} errors` : 'no stats'}`,
    );

    const notes = [
      CAN_DROP_CACHES
        ? 'Before every measurement: sync, then the page cache is dropped (echo 3 > /proc/sys/vm/drop_caches): both tools read cold.'
        : 'Both tools read the corpus from a warm page cache (no root to drop it); sync runs between measurements.',
      'restic reads the live SQLite file and its -wal/-shm (no consistent copy); lifeline copies it through the SQLite backup API (--sqlite).',
      'A child process writes to the SQLite database during every phase, so the "unchanged" re-backup still has a changed database; its scattered updates change most of the database between two backups, so the SQLite file dominates the repo growth of the re-backup and of the 1% change backup, and that growth depends on the time between backups.',
      "restic: --repository-version 2, default compression auto (zstd 'default' speed, ~level 3; lifeline uses zstd level 3), default pack size, RESTIC_CACHE_DIR inside bench/work.",
      'lifeline restore checks every blob against its hash as it decodes it (and fsyncs databases, and checks their integrity); restic restore authenticates each blob as it decrypts it. With --verify both also read every restored file back and check it: a row of its own.',
      'Both tools may use several cores (restic: Go runtime; lifeline: worker threads); the CPU rows are user+sys of the process. otherCpus in raw = CPUs busy with anything else during a measurement.',
      'Repository size: sum of apparent file sizes under the repository directory; restic cache reported separately.',
    ];
    console.log(`\nNotes:\n${notes.map((n) => `  - ${n}`).join('\n')}`);

    const results = {
      generatedAt: new Date().toISOString(),
      config: {
        scale: SCALE,
        rounds: ROUNDS,
        corpus: CORPUS,
        writer: {
          intervalMs: WRITER_MS,
          updatesPerTransaction: WRITER_UPDATES,
          insertsPerTransaction: 1,
          hotShare: WRITER_HOT_SHARE,
          hotFraction: WRITER_HOT_FRACTION,
        },
      },
      machine: facts,
      corpus: corpusInfo,
      changes,
      summary: Object.fromEntries(
        metrics.map((m) => [m.key, { lifeline: m.lifeline, restic: m.restic, ratio: m.ratio }]),
      ),
      resticCacheBytesAfterChange: resticCache,
      raw,
      restoreChecks,
      writerStats,
      notes,
      totalRunSeconds: null,
    };
    results.totalRunSeconds = (performance.now() - t0) / 1000;
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(ROOT, RESULTS)}; total run ${results.totalRunSeconds.toFixed(0)} s`);
  } finally {
    if (writer) await writer.stop().catch(() => {});
    writer = null;
    cleanup();
  }
}

if (process.argv[2] === '--sqlite-writer') {
  runWriter(process.argv[3], process.argv[4]);
} else {
  main().catch((err) => {
    console.error(`bench failed: ${err?.stack ?? err}`);
    process.exitCode = 1;
  });
}
