#!/usr/bin/env node
// Benchmark 12.6: lifeline and restic on the same S3 server (a throw-away radosgw on 127.0.0.1,
// scripts/radosgw.mjs), side by side: full backup, unchanged re-backup and restore of one corpus, with the wall time,
// peak memory and the requests each made. Requests are counted the same way for both tools: each goes through a
// counting proxy in front of radosgw, which forwards it unchanged (signatures hold) and tallies it by kind.
//
//   npm run bench:s3                     (builds dist/ first)
//   BENCH_S3_FILES=5000 node bench/s3.mjs   (text files in the corpus; 5,000 by default, plus 32 MiB of random data)
//
// Writes bench/s3-results.json and prints a Markdown table for docs/benchmarks.md. Needs root for the packages
// (or them installed), GNU time and restic.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { startRadosgw, stopRadosgw } from '../scripts/radosgw.mjs';
import { requireGnuTime } from './gnu-time.mjs';
import { keystream, rng } from './seeded.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORK = path.join(ROOT, 'bench', 'work-s3');
const RESTIC = process.env.RESTIC_BIN ?? '/usr/bin/restic';
const CLI = path.join(ROOT, 'bin', 'lifeline.cjs');
const PASSWORD = 'bench s3 passphrase';
const FILES = Number(process.env.BENCH_S3_FILES ?? 5000);
const MiB = 1024 ** 2;

requireGnuTime();
if (!existsSync(RESTIC)) {
  console.error(`restic is needed at ${RESTIC}: sudo apt-get install -y restic`);
  process.exit(2);
}

/** Text files of 1–16 KiB in nested directories, and two files of random bytes: the same for both tools. */
function makeCorpus(dir) {
  const random = rng(12).float;
  const words = ['lifeline', 'backup', 'restore', 'failover', 'standby', 'primary', 'snapshot', 'bucket', 'object'];
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, 'text', `d${i % 50}`, `e${i % 7}`);
    mkdirSync(sub, { recursive: true });
    const size = 1024 + Math.floor(random() * 15 * 1024);
    let text = '';
    while (text.length < size) text += `${words[Math.floor(random() * words.length)]} `;
    writeFileSync(path.join(sub, `f${i}.txt`), text.slice(0, size));
  }
  mkdirSync(path.join(dir, 'random'), { recursive: true });
  writeFileSync(path.join(dir, 'random', 'a.bin'), keystream(7)(16 * MiB));
  writeFileSync(path.join(dir, 'random', 'b.bin'), keystream(8)(16 * MiB));
}

function digest(dir) {
  const hash = createHash('sha256');
  const walk = (d, rel) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full, `${rel}/${name}`);
      else hash.update(`${rel}/${name}\0`).update(readFileSync(full));
    }
  };
  walk(dir, '');
  return hash.digest('hex');
}

/** Forwards to radosgw and counts requests by kind and bytes each way. */
function countingProxy(target) {
  const upstream = new URL(target);
  let counts = { requests: 0, bytesUp: 0, bytesDown: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const kind =
      req.method === 'GET' && (url.searchParams.has('list-type') || url.pathname.split('/').filter(Boolean).length < 2)
        ? 'LIST'
        : req.method;
    counts.requests++;
    counts[kind] = (counts[kind] ?? 0) + 1;
    req.on('data', (d) => {
      counts.bytesUp += d.length;
    });
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (back) => {
        back.on('data', (d) => {
          counts.bytesDown += d.length;
        });
        res.writeHead(back.statusCode, back.headers);
        back.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  return {
    reset: () => {
      counts = { requests: 0, bytesUp: 0, bytesDown: 0 };
    },
    counts: () => counts,
    listen: () =>
      new Promise((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)),
      ),
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Runs a command under GNU time without blocking this process (the proxy runs here). */
function measure(cmd, args, env) {
  const timeFile = path.join(WORK, 'time.txt');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, cmd, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-2000);
    });
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`${path.basename(cmd)} ${args[0]} failed (${code}): ${stderr}`));
      const peak = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) * 1024;
      resolve({ wallMs, peakRssBytes: peak });
    });
  });
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
const corpus = path.join(WORK, 'corpus');
makeCorpus(corpus);
const expected = digest(corpus);
console.log(`corpus: ${FILES} text files and 32 MiB of random data; starting radosgw`);
const s3 = await startRadosgw(path.join(WORK, 'rgw'));
const proxy = countingProxy(s3.endpoint);
const endpoint = await proxy.listen();
const aws = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region };

const tools = {
  lifeline: {
    repo: `s3:${endpoint}/bench-lifeline`,
    env: { ...aws, LIFELINE_PASSWORD: PASSWORD },
    init: (t) => [process.execPath, [CLI, 'init', '--repo', t.repo]],
    backup: (t) => [
      process.execPath,
      [CLI, 'backup', '--repo', t.repo, '--cache-dir', path.join(WORK, 'cache'), corpus],
    ],
    restore: (t, target) => [
      process.execPath,
      [CLI, 'restore', '--repo', t.repo, '--cache-dir', path.join(WORK, 'cache'), 'latest', '--target', target],
    ],
  },
  restic: {
    repo: `s3:${endpoint}/bench-restic`,
    env: { ...aws, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(WORK, 'restic-cache') },
    init: (t) => [RESTIC, ['init', '--repo', t.repo, '--repository-version', '2']],
    backup: (t) => [RESTIC, ['backup', '--repo', t.repo, corpus]],
    restore: (t, target) => [RESTIC, ['restore', 'latest', '--repo', t.repo, '--target', target]],
  },
};

const results = {};
try {
  for (const [name, t] of Object.entries(tools)) {
    const [initCmd, initArgs] = t.init(t);
    await measure(initCmd, initArgs, t.env);
    results[name] = {};
    for (const phase of ['full', 'rebackup', 'restore']) {
      const target = path.join(WORK, `restore-${name}`);
      rmSync(target, { recursive: true, force: true });
      const [cmd, args] = phase === 'restore' ? t.restore(t, target) : t.backup(t);
      proxy.reset();
      const m = await measure(cmd, args, t.env);
      results[name][phase] = { ...m, ...proxy.counts() };
      if (phase === 'restore') {
        const ok = digest(path.join(target, corpus)) === expected;
        results[name][phase].identical = ok;
        if (!ok) throw new Error(`${name}'s restore differs from the corpus`);
      }
      const r = results[name][phase];
      console.log(
        `${name.padEnd(8)} ${phase.padEnd(8)} ${(r.wallMs / 1000).toFixed(2).padStart(6)} s  ${String(r.requests).padStart(6)} requests  ${(r.peakRssBytes / MiB).toFixed(0).padStart(4)} MiB`,
      );
    }
  }
} finally {
  await proxy.close();
  stopRadosgw(path.join(WORK, 'rgw'));
}

const row = (label, f) => {
  const [l, r] = [f(results.lifeline), f(results.restic)];
  const ratio = Number.parseFloat(r) > 0 ? (Number.parseFloat(l) / Number.parseFloat(r)).toFixed(2) : '–';
  return `| ${label} | ${l} | ${r} | ${ratio} |`;
};
const lines = [
  '| metric | lifeline | restic | ratio |',
  '|---|---:|---:|---:|',
  row('full backup', (r) => `${(r.full.wallMs / 1000).toFixed(2)} s`),
  row('unchanged re-backup', (r) => `${(r.rebackup.wallMs / 1000).toFixed(2)} s`),
  row('restore', (r) => `${(r.restore.wallMs / 1000).toFixed(2)} s`),
  row('requests, full backup', (r) => String(r.full.requests)),
  row('requests, re-backup', (r) => String(r.rebackup.requests)),
  row('requests, restore', (r) => String(r.restore.requests)),
  row('uploaded, full backup', (r) => `${(r.full.bytesUp / MiB).toFixed(1)} MiB`),
  row('downloaded, re-backup', (r) => `${(r.rebackup.bytesDown / 1024).toFixed(1)} KiB`),
  row('downloaded, restore', (r) => `${(r.restore.bytesDown / MiB).toFixed(1)} MiB`),
  row('peak memory, full backup', (r) => `${(r.full.peakRssBytes / MiB).toFixed(0)} MiB`),
];
console.log(`\n${lines.join('\n')}`);
for (const [name, r] of Object.entries(results))
  console.log(
    `${name}: requests by kind: full ${JSON.stringify(kinds(r.full))}, re-backup ${JSON.stringify(kinds(r.rebackup))}, restore ${JSON.stringify(kinds(r.restore))}`,
  );
writeFileSync(path.join(ROOT, 'bench', 's3-results.json'), `${JSON.stringify({ files: FILES, results }, null, 2)}\n`);

function kinds(r) {
  const { wallMs: _w, peakRssBytes: _p, requests: _r, bytesUp: _u, bytesDown: _d, identical: _i, ...rest } = r;
  return rest;
}
