#!/usr/bin/env node
// Chunker parameters: measures candidate (min, avg, max) sizes for the content-defined chunker, to justify the
// default in lib/engine/repository/chunker.ts (DEFAULT_CHUNKER).
//
//   node bench/chunk-params.mjs        (about a minute; needs better-sqlite3 from node_modules)
//
// It runs the engine's own chunker (dist/engine.cjs, built by `npm run build:engine`) with each candidate's
// sizes. Data is fed in 4 MiB reads, as the backup reads files.
//
// For each candidate it measures
//   - throughput: chunking 200 MiB of random bytes (boundaries only, no hashing or compression);
//   - edits: a 50 MiB file, then the same with 100 bytes inserted at 20 random places: the bytes of the edited
//     file in chunks that the first version already has (reused) and the rest (new);
//   - SQLite: a ~50 MiB database copied twice with the online backup API (db.backup()), with ~1% of the rows
//     updated and 0.5% inserted in between: the fraction of the second copy in new chunks. Two update patterns:
//     uniform (any row) and hot (only the newest 5% of the rows). "pages" is the floor any chunking could reach:
//     the fraction of 4 KiB pages that differ between the copies;
//   - compression: the SQLite copy stored as zstd level-3 compressed chunks (as blob-codec.ts stores blobs),
//     relative to its size: smaller chunks give zstd less context.
// Dedup figures are averaged over three chunker keys (each repository has its own secret gear table).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { createEventsTable, EVENT_KINDS, keystream, rng } from './seeded.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));
const { Chunker, gearTable, DEFAULT_CHUNKER: DEFAULT } = require(path.join(ROOT, 'dist', 'engine.cjs'));
const KiB = 1024;
const MiB = 1024 * KiB;

const CANDIDATES = [
  { min: 64 * KiB, avg: 256 * KiB, max: 1 * MiB },
  { min: 128 * KiB, avg: 512 * KiB, max: 2 * MiB },
  { min: 256 * KiB, avg: 1 * MiB, max: 4 * MiB },
  { min: 512 * KiB, avg: 2 * MiB, max: 8 * MiB },
];
const READ_BYTES = 4 * MiB;
const THROUGHPUT_BYTES = 200 * MiB;
const EDIT_FILE_BYTES = 50 * MiB;
const EDIT_INSERTS = 20;
const EDIT_INSERT_BYTES = 100;
const DB_BYTES = 50 * MiB;
/** The hot pattern updates only the newest HOT_FRACTION of the rows (recent records, like most applications). */
const HOT_FRACTION = 0.05;
const ZSTD_LEVEL = 3; // blob-codec.ts
const KEYS = ['chunk-params key 1', 'chunk-params key 2', 'chunk-params key 3'].map((s) =>
  createHash('sha256').update(s).digest(),
);

// ---------------------------------------------------------------------------------------------------------

/** Incompressible, reproducible bytes. */
function randomBytes(seed, n) {
  return keystream(seed)(n);
}

function chunkAll(gear, params, data, onChunk) {
  const c = new Chunker(gear, params);
  for (let off = 0; off < data.length; off += READ_BYTES)
    c.push(data.subarray(off, Math.min(data.length, off + READ_BYTES)), onChunk);
  c.finish(onChunk);
}

const digest = (b) => createHash('sha256').update(b).digest('hex');

/** Bytes of `after` in chunks that `before` does not have, as a fraction of `after`, and the chunk counts. */
function newBytes(gear, params, before, after) {
  const seen = new Set();
  chunkAll(gear, params, before, (c) => seen.add(digest(c)));
  let fresh = 0;
  let chunks = 0;
  chunkAll(gear, params, after, (c) => {
    chunks++;
    if (!seen.has(digest(c))) fresh += c.length;
  });
  return { fresh, fraction: fresh / after.length, chunks };
}

// ---------------------------------------------------------------------------------------------------------
// SQLite copies

function vocabulary() {
  const dir = path.join(ROOT, 'node_modules', 'typescript', 'lib');
  const words = new Set();
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.d.ts'))
      .sort()
      .slice(0, 20)) {
      for (const w of readFileSync(path.join(dir, name), 'latin1').match(/[A-Za-z][A-Za-z0-9]{1,23}/g) ?? [])
        words.add(w);
    }
  }
  for (let i = 0; words.size < 2000; i++) words.add(`word${i}`);
  return [...words].sort();
}

function text(r, words, bytes) {
  let s = '';
  while (s.length < bytes) {
    const u = r.float();
    s += `${words[Math.floor(words.length * u * u * u)]} `;
  }
  return s.slice(0, bytes);
}

function sqliteCopies(dir) {
  const Database = require('better-sqlite3');
  const words = vocabulary();
  const r = rng('chunk-params db');
  const file = path.join(dir, 'live.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const insert = createEventsTable(db);
  const update = db.prepare('UPDATE events SET body = ?, ts = ts + 1 WHERE id = ?');
  const kinds = EVENT_KINDS;
  let ts = 1_700_000_000_000;
  const add = db.transaction((rows) => {
    for (let i = 0; i < rows; i++) {
      ts += r.int(5000);
      insert.run(ts, kinds[r.int(kinds.length)], `user${r.int(5000)}`, text(r, words, 150 + r.int(500)));
    }
  });
  const pageSize = db.pragma('page_size', { simple: true });
  while (db.pragma('page_count', { simple: true }) * pageSize < DB_BYTES) add(5000);
  const copy = async (name) => {
    const dest = path.join(dir, name);
    await db.backup(dest);
    return readFileSync(dest);
  };
  const change = db.transaction((hot) => {
    const rows = db.prepare('SELECT max(id) AS m FROM events').get().m;
    for (let k = Math.round(rows * 0.01); k > 0; k--) {
      const id = hot ? rows - r.int(Math.round(rows * HOT_FRACTION)) : 1 + r.int(rows);
      update.run(text(r, words, 150 + r.int(500)), id);
    }
    add(Math.round(rows * 0.005));
  });
  return (async () => {
    const base = await copy('a.sqlite');
    change(false);
    const uniform = await copy('b.sqlite');
    change(true);
    const hot = await copy('c.sqlite');
    const rows = db.prepare('SELECT count(*) AS n FROM events').get().n;
    db.close();
    return { base, uniform, hot, pageSize, rows };
  })();
}

function pageFloor(before, after, pageSize) {
  let differ = 0;
  const pages = Math.ceil(after.length / pageSize);
  for (let p = 0; p < pages; p++) {
    const a = after.subarray(p * pageSize, (p + 1) * pageSize);
    const b = before.subarray(p * pageSize, (p + 1) * pageSize);
    if (!a.equals(b)) differ++;
  }
  return (differ * pageSize) / after.length;
}

// ---------------------------------------------------------------------------------------------------------

const label = (p) => `${p.min / KiB}K/${p.avg >= MiB ? `${p.avg / MiB}M` : `${p.avg / KiB}K`}/${p.max / MiB}M`;
const pct = (x) => `${(x * 100).toFixed(1)}%`;

async function main() {
  const t0 = performance.now();
  let zstd = null;
  try {
    zstd = require('zstd-napi');
  } catch {
    console.log('zstd-napi not found: no compression column');
  }
  const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) ?? [])[1] ?? 'unknown';
  console.log(`chunker parameters: ${cpu}, node ${process.version}; default in chunker.ts: ${label(DEFAULT)}`);

  const big = randomBytes('throughput', THROUGHPUT_BYTES);
  const editBase = randomBytes('edit', EDIT_FILE_BYTES);
  const r = rng('edits');
  const positions = Array.from({ length: EDIT_INSERTS }, () => r.int(EDIT_FILE_BYTES)).sort((a, b) => a - b);
  const pieces = [];
  let at = 0;
  for (const [k, p] of positions.entries()) {
    pieces.push(editBase.subarray(at, p), randomBytes(`insert-${k}`, EDIT_INSERT_BYTES));
    at = p;
  }
  pieces.push(editBase.subarray(at));
  const edited = Buffer.concat(pieces);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-chunk-params-'));
  let db;
  try {
    db = await sqliteCopies(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const floorUniform = pageFloor(db.base, db.uniform, db.pageSize);
  const floorHot = pageFloor(db.uniform, db.hot, db.pageSize);
  console.log(
    `data: ${THROUGHPUT_BYTES / MiB} MiB random; ${EDIT_FILE_BYTES / MiB} MiB file + ${EDIT_INSERTS} inserts of ${EDIT_INSERT_BYTES} B; SQLite ${(db.base.length / MiB).toFixed(1)} MiB (${db.rows} rows at the end), prepared in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  const results = [];
  for (const params of CANDIDATES) {
    const gear0 = gearTable(KEYS[0]);
    // Throughput: a short warm-up, then the best of two passes over 200 MiB.
    let count = 0;
    chunkAll(gear0, params, big.subarray(0, 16 * MiB), () => {});
    let best = Infinity;
    let maxCuts = 0;
    for (let pass = 0; pass < 2; pass++) {
      count = 0;
      maxCuts = 0;
      const start = performance.now();
      chunkAll(gear0, params, big, (c) => {
        count++;
        if (c.length === params.max) maxCuts++;
      });
      best = Math.min(best, performance.now() - start);
    }
    const mbps = THROUGHPUT_BYTES / MiB / (best / 1000);

    const avg = (f) => KEYS.reduce((s, k) => s + f(gearTable(k)), 0) / KEYS.length;
    const edit = avg((g) => newBytes(g, params, editBase, edited).fresh);
    const uniform = avg((g) => newBytes(g, params, db.base, db.uniform).fraction);
    const hot = avg((g) => newBytes(g, params, db.uniform, db.hot).fraction);
    let packed = null;
    if (zstd) {
      packed = 0;
      chunkAll(gear0, params, db.base, (c) => {
        packed += Math.min(c.length, zstd.compress(c, { compressionLevel: ZSTD_LEVEL }).length);
      });
    }
    results.push({
      params,
      throughputMiBps: mbps,
      meanChunkBytes: THROUGHPUT_BYTES / count,
      chunksPerGiB: (count * 1024) / (THROUGHPUT_BYTES / MiB),
      maxSizeCuts: maxCuts / count,
      editNewBytes: edit,
      editReused: 1 - edit / edited.length,
      sqliteUniformNew: uniform,
      sqliteHotNew: hot,
      sqliteCompressed: packed == null ? null : packed / db.base.length,
    });
  }

  const rows = [
    [
      'min/avg/max',
      'MiB/s',
      'mean chunk',
      'chunks/GiB',
      'cut at max',
      'edit: new',
      'edit: reused',
      'SQLite uniform: new',
      'SQLite hot: new',
      'SQLite zstd-3',
    ],
    ...results.map((x) => [
      label(x.params) +
        (x.params.avg === DEFAULT.avg && x.params.min === DEFAULT.min && x.params.max === DEFAULT.max ? ' *' : ''),
      x.throughputMiBps.toFixed(0),
      `${(x.meanChunkBytes / KiB).toFixed(0)} KiB`,
      x.chunksPerGiB.toFixed(0),
      pct(x.maxSizeCuts),
      `${(x.editNewBytes / MiB).toFixed(1)} MiB`,
      pct(x.editReused),
      pct(x.sqliteUniformNew),
      pct(x.sqliteHotNew),
      x.sqliteCompressed == null ? 'n/a' : pct(x.sqliteCompressed),
    ]),
    [
      'pages (floor)',
      '',
      '',
      '',
      '',
      `${((EDIT_INSERTS * EDIT_INSERT_BYTES) / MiB).toFixed(3)} MiB`,
      '',
      pct(floorUniform),
      pct(floorHot),
      '',
    ],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  for (const [k, row] of rows.entries()) {
    console.log(
      row.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  '),
    );
    if (k === 0) console.log('-'.repeat(widths.reduce((a, b) => a + b + 2, -2)));
  }
  console.log(
    `\n* the default. Dedup columns: mean over ${KEYS.length} chunker keys. SQLite: ~1% of rows updated (uniform: any row; hot: the newest ${HOT_FRACTION * 100}%) and 0.5% inserted between two db.backup() copies; zstd-3 = stored size / size.`,
  );
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.exitCode = 1;
});
