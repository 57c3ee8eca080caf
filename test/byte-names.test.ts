// 07.6: file names and symbolic link targets are bytes. Whatever bytes a name holds, a backup keeps it and a restore
// writes it back exactly; people see each byte that is not UTF-8 as \xNN, and may type it so.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { cli, describeTree, resultOf, tempDir } from './helpers';

/** A name from text and raw bytes. */
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const under = (dir: string, ...name: Buffer[]) => Buffer.concat([Buffer.from(`${dir}/`), ...name]);

const LATIN1_CAFE = bytes('caf', [0xe9], '.txt');
const LATIN1_DIR = bytes('r', [0xe9], 'sum', [0xe9]);

/** Every kind of name a lossy decoder would get wrong, and entries of every kind under such names. */
function awkwardTree(): string {
  const src = path.join(tempDir('bytes-src'), 'src');
  mkdirSync(src);
  writeFileSync(under(src, LATIN1_CAFE), 'a Latin-1 name');
  mkdirSync(under(src, LATIN1_DIR));
  writeFileSync(under(src, LATIN1_DIR, bytes('/', [0x82, 0xa0], '.txt')), 'a Shift JIS name in a Latin-1 directory');
  // C0 AF is an overlong '/': it must stay two bytes of a name, never become a separator.
  writeFileSync(under(src, bytes('over', [0xc0, 0xaf], 'long')), 'an overlong slash');
  // ED B3 A9 would be UTF-8 for U+DCE9, the very code the engine uses inside for the byte E9.
  writeFileSync(under(src, bytes('surrogate-', [0xed, 0xb3, 0xa9])), 'an encoded surrogate');
  writeFileSync(under(src, bytes('cut-short-', [0xe2, 0x82])), 'a sequence cut short');
  // Two UTF-8 names a lossy decoding or the \xNN display would confuse with the Latin-1 one.
  writeFileSync(path.join(src, 'caf\\xe9.txt'), 'a backslash, x, e and 9');
  writeFileSync(path.join(src, 'caf\uFFFD.txt'), 'a real replacement character');
  writeFileSync(under(src, bytes('big-', [0xff])), randomBytes(3 * 1024 * 1024));
  symlinkSync(LATIN1_CAFE, under(src, bytes('to-latin1')));
  symlinkSync(bytes('/nowhere/', [0xff, 0xfe]), under(src, bytes('dangling-', [0xfe])));
  // mkfifo takes text arguments: made under a UTF-8 name, then renamed.
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  renameSync(path.join(src, 'fifo'), under(src, bytes('fifo-', [0xa7])));
  return src;
}

/** better-sqlite3 takes a name as text: SQLite resolves /proc/self/fd/N to the file's own name, and keeps its
 *  own descriptor. */
function openByBytes(file: Buffer, options?: Database.Options): Database.Database {
  const fd = openSync(file, 'r');
  try {
    return new Database(`/proc/self/fd/${fd}`, options);
  } finally {
    closeSync(fd);
  }
}

function initRepo(): string {
  const repo = path.join(tempDir('bytes-repo'), 'repo');
  expect(cli(['init', '--repo', repo, '--json']).code).toBe(0);
  return repo;
}

interface BackupLine {
  id: string;
  summary: { files: number; filesRead: number; skipped: number };
  warnings: string[];
}

function backup(repo: string, ...paths: string[]): BackupLine {
  const r = cli(['backup', '--repo', repo, '--json', ...paths]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return resultOf(r) as unknown as BackupLine;
}

describe('07.6 names and link targets as bytes', () => {
  it('07.6 a tree of names and link targets that are not UTF-8 is backed up without a skip and restored byte for byte', () => {
    const repo = initRepo();
    const src = awkwardTree();
    const first = backup(repo, src);
    expect(first.warnings).toEqual([]);
    expect(first.summary).toMatchObject({ skipped: 0, files: 8 });
    const config = JSON.parse(readFileSync(path.join(repo, 'config'), 'utf8')) as { features: string[] };
    expect(config.features).toContain('byte-names');

    const target = tempDir('bytes-target');
    const restored = cli(['restore', '--repo', repo, 'latest', '--target', target, '--json']);
    expect(restored.code).toBe(0);
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));

    // The next backup finds every file by its name in the first snapshot: nothing is read again.
    expect(backup(repo, src).summary.filesRead).toBe(0);
    const verify = cli(['verify', '--repo', repo, '--read-data', '--json']);
    expect(resultOf(verify).ok).toBe(true);
  });

  it('07.6 ls and diff show each byte that is not UTF-8 as \\xNN, and restore --include takes a path so written', () => {
    const repo = initRepo();
    const src = awkwardTree();
    backup(repo, src);
    const ls = resultOf(cli(['ls', '--repo', repo, '--json', 'latest', src])).nodes as {
      name: string;
      target?: string;
    }[];
    expect(ls.map((n) => n.name)).toEqual(
      expect.arrayContaining(['caf\\xe9.txt', 'r\\xe9sum\\xe9', 'over\\xc0\\xaflong', 'dangling-\\xfe']),
    );
    expect(ls.find((n) => n.name === 'to-latin1')?.target).toBe('caf\\xe9.txt');
    const inside = resultOf(cli(['ls', '--repo', repo, '--json', 'latest', `${src}/r\\xe9sum\\xe9`])).nodes as {
      name: string;
    }[];
    expect(inside.map((n) => n.name)).toEqual(['\\x82\\xa0.txt']);

    writeFileSync(under(src, LATIN1_CAFE), 'changed');
    backup(repo, src);
    const snapshots = resultOf(cli(['snapshots', '--repo', repo, '--json'])).snapshots as { id: string }[];
    const diff = resultOf(cli(['diff', '--repo', repo, '--json', snapshots[0].id, snapshots[1].id])).entries as {
      change: string;
      path: string;
    }[];
    expect(diff).toEqual([expect.objectContaining({ change: 'changed', path: `${src}/caf\\xe9.txt` })]);

    // The directory as ls shows it; the Latin-1 file and its UTF-8 look-alike, both meant by the same text.
    const target = tempDir('bytes-include');
    const restored = cli([
      'restore',
      '--repo',
      repo,
      'latest',
      '--target',
      target,
      '--include',
      `${src}/r\\xe9sum\\xe9`,
      '--include',
      `${src}/caf\\xe9.txt`,
      '--json',
    ]);
    expect(restored.code).toBe(0);
    const got = describeTree(path.join(target, src));
    const want = describeTree(src);
    const picked = Object.keys(want).filter((k) =>
      [`bytes:${LATIN1_CAFE.toString('hex')}`, 'caf\\xe9.txt', `bytes:${LATIN1_DIR.toString('hex')}`].includes(
        k.split('/')[0],
      ),
    );
    expect(Object.keys(got).sort()).toEqual(picked.sort());
    for (const key of picked) expect(got[key]).toEqual(want[key]);
  });

  it('07.6 an in-place restore with --delete removes an entry the snapshot lacks and keeps those it has, whatever their bytes', () => {
    const repo = initRepo();
    const src = awkwardTree();
    backup(repo, src);
    const before = describeTree(src);
    writeFileSync(under(src, bytes('extra-', [0xe9])), 'not in the snapshot');
    writeFileSync(under(src, LATIN1_CAFE), 'overwritten since');
    const preview = resultOf(
      cli(['restore', '--repo', repo, 'latest', '--target', '/', '--include', src, '--delete', '--dry-run', '--json']),
    ).entries as { action: string; path: string }[];
    expect(preview.filter((e) => e.action === 'delete').map((e) => e.path)).toEqual([`${src}/extra-\\xe9`]);
    const r = cli(['restore', '--repo', repo, 'latest', '--target', '/', '--include', src, '--delete', '--json']);
    expect(r.code).toBe(0);
    expect(describeTree(src)).toEqual(before);
  });

  it('07.6 a live SQLite database under a name that is not UTF-8 is copied consistently, with what its WAL holds', () => {
    const repo = initRepo();
    const src = path.join(tempDir('bytes-db'), 'db');
    mkdirSync(src);
    const file = under(src, bytes('ventes-', [0xe9], '.db'));
    closeSync(openSync(file, 'w'));
    const db = openByBytes(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE sale (id INTEGER PRIMARY KEY, amount INTEGER)');
    for (let i = 0; i < 500; i++) db.prepare('INSERT INTO sale (amount) VALUES (?)').run(i);
    try {
      const result = backup(repo, src);
      expect(result.warnings).toEqual([]);
      const target = tempDir('bytes-db-target');
      expect(cli(['restore', '--repo', repo, 'latest', '--target', target, '--json']).code).toBe(0);
      const restored = under(path.join(target, src), bytes('ventes-', [0xe9], '.db'));
      const copy = openByBytes(restored, { readonly: true, fileMustExist: true });
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(copy.prepare('SELECT count(*) AS n, sum(amount) AS s FROM sale').get()).toEqual({ n: 500, s: 124750 });
      } finally {
        copy.close();
      }
    } finally {
      db.close();
    }
  });
});
