// What a restore may do to what its target already holds (08.2), and the names it must be able to write (08.3).
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
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

describe('09.5 a restore target is judged by its real path, not its text', () => {
  function backedUp() {
    const repo = initRepo();
    const src = path.join(tempDir('real-src'), 'app');
    mkdirSync(src);
    writeFileSync(path.join(src, 'config'), 'from the snapshot');
    expect(cli(['backup', '--repo', repo, src]).code).toBe(0);
    // Changed since: a restore in place would put the snapshot's version back.
    writeFileSync(path.join(src, 'config'), 'live');
    return { repo, src };
  }

  it('09.5 --target-must-be refuses a target that is / once resolved, and writes nothing', () => {
    const { repo, src } = backedUp();
    const toRoot = path.join(tempDir('to-root'), 'link');
    symlinkSync('/', toRoot);
    const viaDots = `${path.dirname(src)}/${'../'.repeat(src.split('/').length)}`;
    const cases = [
      ...['/proc/self/root', '/proc/thread-self/root', toRoot, viaDots, `${toRoot}/.`].map((t) => [t, 'empty']),
      ['/proc/self/root', 'elsewhere'],
    ];
    for (const [target, rule] of cases) {
      const r = cli(['restore', '--repo', repo, 'latest', '--target', target, '--target-must-be', rule]);
      expect({ target, rule, code: r.code, stderr: r.stderr }).toEqual({
        target,
        rule,
        code: 2,
        stderr: expect.stringMatching(/is \/ once resolved: that is a restore in place, not one elsewhere/),
      });
      expect(readFileSync(path.join(src, 'config'), 'utf8')).toBe('live');
    }
  });

  it('09.5 with empty, a directory that holds files is refused untouched; one that does not exist, an empty one and an empty one behind a link are written; with elsewhere, a full one is too', () => {
    const { repo, src } = backedUp();
    const occupied = tempDir('occupied');
    writeFileSync(path.join(occupied, 'keep.txt'), 'keep');
    const refused = cli(['restore', '--repo', repo, 'latest', '--target', occupied, '--target-must-be', 'empty']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`the restore target ${occupied} is not empty`);
    expect(readdirSync(occupied)).toEqual(['keep.txt']);

    const preview = resultOf(
      cli([
        'restore',
        '--repo',
        repo,
        'latest',
        '--target',
        occupied,
        '--target-must-be',
        'empty',
        '--dry-run',
        '--json',
      ]),
    );
    expect(preview.target).toEqual({ real: occupied, state: 'occupied' });

    const absent = path.join(tempDir('absent'), 'new', 'dir');
    const empty = tempDir('empty');
    const behindLink = path.join(tempDir('behind'), 'link');
    const real = tempDir('real-empty');
    symlinkSync(real, behindLink);
    for (const [target, where] of [
      [absent, absent],
      [empty, empty],
      [behindLink, real],
    ]) {
      const r = cli(['restore', '--repo', repo, 'latest', '--target', target, '--target-must-be', 'empty', '--json']);
      expect({ target, code: r.code }).toEqual({ target, code: 0 });
      expect(readFileSync(path.join(where, src, 'config'), 'utf8')).toBe('from the snapshot');
    }
    // The link was followed once, to the directory it named then, and is still the link it was.
    expect(lstatSync(behindLink).isSymbolicLink()).toBe(true);

    const over = cli(['restore', '--repo', repo, 'latest', '--target', occupied, '--target-must-be', 'elsewhere']);
    expect(over.code).toBe(0);
    expect(readFileSync(path.join(occupied, src, 'config'), 'utf8')).toBe('from the snapshot');
    expect(readFileSync(path.join(occupied, 'keep.txt'), 'utf8')).toBe('keep');
  });

  it('09.5 a target through a link to nothing, or a file, is refused with a clear error', () => {
    const { repo } = backedUp();
    const dangling = path.join(tempDir('dangling'), 'link');
    symlinkSync('/nonexistent-lifeline-target', dangling);
    const file = path.join(tempDir('file-target'), 'file');
    writeFileSync(file, 'a file');
    for (const [target, why] of [
      [dangling, /a symbolic link to nothing/],
      [path.join(dangling, 'below'), /a symbolic link to nothing/],
      [file, /is not a directory/],
    ] as const) {
      const r = cli(['restore', '--repo', repo, 'latest', '--target', target, '--target-must-be', 'empty']);
      expect({ target, code: r.code, stderr: r.stderr }).toEqual({
        target,
        code: 2,
        stderr: expect.stringMatching(why),
      });
    }
    expect(readFileSync(file, 'utf8')).toBe('a file');
  });
});
