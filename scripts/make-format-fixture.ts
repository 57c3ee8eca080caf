// Makes the frozen fixture of repository format 1 (docs/repository-format.md, "Compatibility"): a small repository
// written by this version of the engine, with every kind of node format 1 stores, and what restoring each of its
// snapshots must give. Every later version must list, restore (byte for byte) and verify it: test/format-fixture
// .test.ts. Run it once per format version, never to refresh an existing fixture:
//
//   npx tsx scripts/make-format-fixture.ts test/fixtures/format-v1
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';

import { initRepository, runBackup, runRestore, runVerify } from '../lib/engine';
import { describeTree, type FixtureEntry } from '../test/support/describe-tree';

const PASSPHRASE = 'lifeline format fixture';
/** Small chunks, so that a few hundred KiB make many blobs and packs stay small. */
const CHUNKER = { min: 4096, avg: 16384, max: 65536 };
/** A cheap key derivation: the fixture is public, its passphrase is above. */
const KDF = { N: 2 ** 10, r: 8, p: 1 };
const AT = new Date('2026-11-30T12:00:00.000Z');

export interface FixtureSnapshot {
  id: string;
  source: string;
  tags: string[];
  /** The directory that was backed up, as stored in the snapshot (restored under the target at this path). */
  root: string;
  entries: FixtureEntry[];
}

/** Deterministic bytes that do not compress: a SHA-256 counter stream. */
function noise(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, block = 0; i < length; block++) {
    const h = createHash('sha256').update(`${seed}:${block}`).digest();
    i += h.copy(out, i);
  }
  return out;
}

function touchAll(dir: string): void {
  // Deepest first, so that setting a directory's time is not undone by writing in it.
  const all: string[] = [];
  const walk = (p: string) => {
    for (const name of readdirSync(p)) {
      const full = path.join(p, name);
      if (lstatSync(full).isDirectory()) walk(full);
      all.push(full);
    }
  };
  walk(dir);
  for (const p of all) if (!lstatSync(p).isSymbolicLink()) utimesSync(p, AT, AT);
  utimesSync(dir, AT, AT);
}

async function main(out: string): Promise<void> {
  if (existsSync(out)) throw new Error(`${out} exists: a fixture is made once per format version, never remade`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'lifeline-fixture-'));
  const src = path.join(work, 'srv');
  mkdirSync(path.join(src, 'docs', 'empty'), { recursive: true });
  mkdirSync(path.join(src, 'bin'));
  writeFileSync(path.join(src, 'docs', 'notes.txt'), 'the quarterly numbers\n');
  writeFileSync(path.join(src, 'docs', 'Überweisung März ☃ 日本.txt'), 'Grüße aus Köln\n');
  writeFileSync(path.join(src, 'docs', 'empty.txt'), '');
  writeFileSync(path.join(src, 'photo.raw'), noise('photo', 300 * 1024));
  writeFileSync(path.join(src, 'bin', 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(path.join(src, 'bin', 'run.sh'), 0o755);
  writeFileSync(path.join(src, 'secret.key'), noise('secret', 64));
  chmodSync(path.join(src, 'secret.key'), 0o600);
  linkSync(path.join(src, 'docs', 'notes.txt'), path.join(src, 'docs', 'notes-hardlink.txt'));
  symlinkSync('docs/notes.txt', path.join(src, 'current-notes'));
  symlinkSync('/nonexistent/target', path.join(src, 'dangling'));
  execFileSync('mkfifo', [path.join(src, 'queue.fifo')]);
  const db = new Database(path.join(src, 'app.db'));
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO notes (body) VALUES (?)');
  for (let i = 1; i <= 200; i++) insert.run(`note ${i}`);
  db.close();
  touchAll(src);

  const repoDir = path.join(out, 'repository');
  mkdirSync(out, { recursive: true });
  const repo = await initRepository(repoDir, PASSPHRASE, { chunker: CHUNKER, kdf: KDF });
  const snapshots: FixtureSnapshot[] = [];
  const backUp = async (tags: string[]) => {
    const { id, snapshot } = await runBackup(repo, { paths: [src], node: 'fixture', sourceName: 'files', tags });
    // What restoring gives with this version: checked against the source tree, then frozen.
    const target = path.join(work, `restore-${snapshots.length}`);
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
    const restored = describeTree(path.join(target, src.slice(1)));
    const original = describeTree(src).filter((e) => e.path !== 'app.db');
    for (const e of original) {
      const r = restored.find((x) => x.path === e.path);
      if (JSON.stringify(r) !== JSON.stringify(e))
        throw new Error(`this version restores ${e.path} differently: ${JSON.stringify(r)} ≠ ${JSON.stringify(e)}`);
    }
    snapshots.push({ id, source: snapshot.source, tags: snapshot.tags, root: src, entries: restored });
  };
  await backUp(['fixture', 'first']);
  // A second snapshot that shares most of its data with the first.
  writeFileSync(path.join(src, 'docs', 'notes.txt'), 'the quarterly numbers, revised\n');
  rmSync(path.join(src, 'secret.key'));
  writeFileSync(path.join(src, 'added.txt'), noise('added', 20 * 1024));
  touchAll(src);
  await backUp(['fixture', 'second']);

  const verified = await runVerify(repo, { readDataPercent: 100 });
  if (verified.errors.length > 0) throw new Error(`the fresh fixture does not verify: ${verified.errors.join('; ')}`);

  // A damaged copy: one byte of the largest pack flipped in the middle, where a blob's ciphertext is.
  const damaged = path.join(out, 'damaged');
  cpSync(repoDir, damaged, { recursive: true });
  const packs = readdirSync(path.join(damaged, 'data'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort((a, b) => lstatSync(b).size - lstatSync(a).size);
  const bytes = readFileSync(packs[0]);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(packs[0], bytes);

  writeFileSync(
    path.join(out, 'expected.json'),
    `${JSON.stringify({ passphrase: PASSPHRASE, damagedPack: path.basename(packs[0]), snapshots }, null, 2)}\n`,
  );
  rmSync(work, { recursive: true, force: true });
  console.log(`fixture written to ${out}: ${snapshots.length} snapshots`);
}

main(process.argv[2] ?? 'test/fixtures/format-v1').catch((err) => {
  console.error(err);
  process.exit(1);
});
