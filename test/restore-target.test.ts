// What a restore may do to what its target already holds (08.2), and the names it must be able to write (08.3).
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { cli, describeTree, resultOf, tempDir } from './helpers';

function initRepo(): string {
  const repo = path.join(tempDir('target-repo'), 'repo');
  expect(cli(['init', '--repo', repo, '--json']).code).toBe(0);
  return repo;
}

describe('08.2 a restore never removes a directory unasked', () => {
  it('08.2 a file where the target has a directory: refused with exit 2 naming it, listed with its file count by --dry-run, done with --delete', () => {
    const repo = initRepo();
    const src = path.join(tempDir('replace-src'), 'site');
    mkdirSync(src);
    writeFileSync(path.join(src, 'data'), 'a file in the snapshot');
    writeFileSync(path.join(src, 'index.html'), '<h1>site</h1>');
    expect(cli(['backup', '--repo', repo, '--json', src]).code).toBe(0);

    const target = tempDir('replace-target');
    const live = path.join(target, src, 'data');
    mkdirSync(path.join(live, 'deeper'), { recursive: true });
    writeFileSync(path.join(live, 'one.txt'), 'live data');
    writeFileSync(path.join(live, 'deeper', 'two.txt'), 'more live data');
    const before = describeTree(target);

    const refused = cli(['restore', '--repo', repo, 'latest', '--target', target]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${live} is a directory (2 files): restoring would remove it`);
    expect(describeTree(target)).toEqual(before);

    const preview = resultOf(cli(['restore', '--repo', repo, 'latest', '--target', target, '--dry-run', '--json']));
    expect(
      (preview.entries as { destination: string; replacesDirectory?: number }[]).filter(
        (e) => e.replacesDirectory !== undefined,
      ),
    ).toEqual([expect.objectContaining({ action: 'overwrite', destination: live, replacesDirectory: 2 })]);
    expect(describeTree(target)).toEqual(before);

    const done = cli(['restore', '--repo', repo, 'latest', '--target', target, '--delete', '--json']);
    expect(done.code).toBe(0);
    expect(readFileSync(live, 'utf8')).toBe('a file in the snapshot');
  });

  it('08.2 --replace-directories replaces the directory and, unlike --delete, leaves alone what the snapshot lacks', () => {
    const repo = initRepo();
    const src = path.join(tempDir('replace-src'), 'site');
    mkdirSync(src);
    writeFileSync(path.join(src, 'data'), 'a file in the snapshot');
    expect(cli(['backup', '--repo', repo, '--json', src]).code).toBe(0);
    const target = tempDir('replace-target');
    mkdirSync(path.join(target, src, 'data'), { recursive: true });
    writeFileSync(path.join(target, src, 'data', 'one.txt'), 'live data');
    writeFileSync(path.join(target, src, 'not-in-the-snapshot.txt'), 'kept');
    const done = cli(['restore', '--repo', repo, 'latest', '--target', target, '--replace-directories', '--json']);
    expect(done.code).toBe(0);
    expect(readFileSync(path.join(target, src, 'data'), 'utf8')).toBe('a file in the snapshot');
    expect(readdirSync(path.join(target, src)).sort()).toEqual(['data', 'not-in-the-snapshot.txt']);
  });
});

describe('08.3 long names', () => {
  it('08.3 entries with names of 250 to 255 bytes, of every kind, restore elsewhere and in place', () => {
    const repo = initRepo();
    const src = path.join(tempDir('long-src'), 'site');
    mkdirSync(src);
    const long = (n: number, c: string) => c.repeat(n);
    writeFileSync(path.join(src, long(250, 'a')), 'a 250-byte name');
    writeFileSync(path.join(src, long(255, 'b')), 'the longest name ext4 allows');
    // Multibyte: 85 three-byte characters are 255 bytes.
    writeFileSync(path.join(src, long(85, '語')), 'a 255-byte name in 85 characters');
    mkdirSync(path.join(src, long(255, 'd')));
    writeFileSync(path.join(src, long(255, 'd'), long(255, 'e')), 'below a long directory');
    symlinkSync(long(255, 'b'), path.join(src, long(255, 'l')));
    execFileSync('mkfifo', [path.join(src, long(255, 'f'))]);
    expect(cli(['backup', '--repo', repo, '--json', src]).code).toBe(0);

    const target = tempDir('long-target');
    const elsewhere = cli(['restore', '--repo', repo, 'latest', '--target', target, '--json']);
    expect({ code: elsewhere.code, stderr: elsewhere.stderr }).toEqual({ code: 0, stderr: '' });
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));

    // In place, over what is there: every file is replaced through a temporary name of its own.
    const before = describeTree(src);
    writeFileSync(path.join(src, long(255, 'b')), 'changed');
    const inPlace = cli(['restore', '--repo', repo, 'latest', '--target', '/', '--json']);
    expect({ code: inPlace.code, stderr: inPlace.stderr }).toEqual({ code: 0, stderr: '' });
    expect(describeTree(src)).toEqual(before);
  });
});
