import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { diffSnapshots, isEngineError, runBackup, runRestore } from '@/lib/engine';

import { describeTree, newRepository, tempDir } from './helpers';

function makeSource(): string {
  const src = path.join(tempDir('src'), 'data');
  mkdirSync(path.join(src, 'docs', 'deep', 'er'), { recursive: true });
  mkdirSync(path.join(src, 'empty'));
  writeFileSync(path.join(src, 'hello.txt'), 'hello, world\n');
  writeFileSync(path.join(src, 'docs', 'big.bin'), randomBytes(3 * 1024 * 1024 + 17));
  writeFileSync(path.join(src, 'docs', 'text.md'), '# notes\n'.repeat(50_000));
  writeFileSync(path.join(src, 'docs', 'deep', 'er', 'empty-file'), '');
  writeFileSync(path.join(src, 'script.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(path.join(src, 'script.sh'), 0o750);
  chmodSync(path.join(src, 'docs', 'text.md'), 0o600);
  symlinkSync('hello.txt', path.join(src, 'link-to-hello'));
  symlinkSync('/nonexistent/target', path.join(src, 'dangling'));
  execFileSync('mkfifo', [path.join(src, 'pipe')]);
  utimesSync(path.join(src, 'hello.txt'), new Date('2020-01-02T03:04:05.678Z'), new Date('2020-01-02T03:04:05.678Z'));
  utimesSync(path.join(src, 'docs', 'deep'), new Date('2021-05-06T07:08:09Z'), new Date('2021-05-06T07:08:09Z'));
  return src;
}

describe('backup and restore', () => {
  it('restores a directory byte for byte with modes, symlinks and mtimes', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    const before = describeTree(src);
    const { id, snapshot } = await runBackup(repo, { paths: [src], node: 'test', sourceName: 'data' });
    expect(snapshot.source).toBe('test:data');
    expect(snapshot.summary.files).toBe(5);
    const target = tempDir('restore');
    const result = await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
    expect(result.verified).toBe(true);
    expect(describeTree(path.join(target, src))).toEqual(before);
    expect(lstatSync(path.join(target, src, 'pipe')).isFIFO()).toBe(true);
  });

  it('does not read unchanged files again and saves only what changed', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    const first = await runBackup(repo, { paths: [src] });
    const second = await runBackup(repo, { paths: [src] });
    expect(second.snapshot.parent).toBe(first.id);
    expect(second.snapshot.summary.filesRead).toBe(0);
    // Only the trees of directories above the source, whose mtimes other tests change, may be new.
    expect(second.snapshot.summary.newBlobs).toBeLessThanOrEqual(3);
    writeFileSync(path.join(src, 'hello.txt'), 'changed\n');
    const third = await runBackup(repo, { paths: [src] });
    expect(third.snapshot.summary.filesRead).toBe(1);
    expect(third.snapshot.summary.newBytes).toBeLessThan(10_000);
  });

  it('restores selected paths only, and a dry run writes nothing', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    const { id } = await runBackup(repo, { paths: [src] });
    const snapshot = await repo.resolveSnapshot(id);
    const target = tempDir('partial');
    const dry = await runRestore(repo, { snapshot, target, include: [path.join(src, 'docs')], dryRun: true });
    expect(dry.plan.entries.filter((e) => e.action === 'create').map((e) => e.path)).toContain(
      path.join(src, 'docs', 'big.bin'),
    );
    expect(existsSync(path.join(target, src))).toBe(false);
    await runRestore(repo, { snapshot, target, include: [path.join(src, 'docs')] });
    expect(readFileSync(path.join(target, src, 'docs', 'text.md'), 'utf8')).toBe('# notes\n'.repeat(50_000));
    expect(existsSync(path.join(target, src, 'hello.txt'))).toBe(false);
  });

  it('deletes extra files only with delete, and lists them in the dry run', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    const { id } = await runBackup(repo, { paths: [src] });
    const snapshot = await repo.resolveSnapshot(id);
    writeFileSync(path.join(src, 'new-file'), 'created after the backup');
    writeFileSync(path.join(src, 'hello.txt'), 'edited after the backup');
    // The directory above the backed-up path is only the way to it: an in-place restore leaves it alone.
    chmodSync(path.dirname(src), 0o751);
    const kept = await runRestore(repo, { snapshot, target: '/' });
    expect(lstatSync(path.dirname(src)).mode & 0o777).toBe(0o751);
    expect(kept.deleted).toBe(0);
    expect(readFileSync(path.join(src, 'hello.txt'), 'utf8')).toBe('hello, world\n');
    expect(existsSync(path.join(src, 'new-file'))).toBe(true);
    const dry = await runRestore(repo, { snapshot, target: '/', delete: true, dryRun: true });
    expect(dry.plan.entries.filter((e) => e.action === 'delete').map((e) => e.destination)).toEqual([
      path.join(src, 'new-file'),
    ]);
    expect(existsSync(path.join(src, 'new-file'))).toBe(true);
    await runRestore(repo, { snapshot, target: '/', delete: true });
    expect(existsSync(path.join(src, 'new-file'))).toBe(false);
  });

  it('excludes by name and by path', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    writeFileSync(path.join(src, 'scratch.tmp'), 'x');
    const { id } = await runBackup(repo, { paths: [src], exclude: ['*.tmp', path.join(src, 'docs')] });
    const target = tempDir('excl');
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
    expect(existsSync(path.join(target, src, 'hello.txt'))).toBe(true);
    expect(existsSync(path.join(target, src, 'scratch.tmp'))).toBe(false);
    expect(existsSync(path.join(target, src, 'docs'))).toBe(false);
  });

  it('skips an unreadable file with a warning and backs up the rest', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    const secret = path.join(src, 'secret');
    writeFileSync(secret, 'top secret');
    chmodSync(secret, 0o000);
    const events: string[] = [];
    const { snapshot } = await runBackup(repo, {
      paths: [src],
      onEvent: (e) => e.type === 'warning' && events.push(e.path),
    });
    const expectSkip = process.getuid?.() !== 0;
    expect(snapshot.summary.skipped > 0).toBe(expectSkip);
    expect(events.includes(secret)).toBe(expectSkip);
    expect(snapshot.summary.files).toBe(expectSkip ? 5 : 6);
  });

  it('refuses a missing source with a clear error and writes no snapshot', async () => {
    const { repo } = await newRepository();
    await expect(runBackup(repo, { paths: ['/does/not/exist'] })).rejects.toSatisfy((e) =>
      isEngineError(e, 'source-unreadable'),
    );
    expect(await repo.listSnapshots()).toEqual([]);
  });

  it('stops when cancelled and the next backup still works', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    const controller = new AbortController();
    controller.abort();
    await expect(runBackup(repo, { paths: [src], signal: controller.signal })).rejects.toSatisfy((e) =>
      isEngineError(e, 'cancelled'),
    );
    const { snapshot } = await runBackup(repo, { paths: [src] });
    expect(snapshot.summary.files).toBe(5);
  });

  it('07.4 paths that overlap, in any order, save every file under each of them, each once', async () => {
    const src = makeSource();
    const before = describeTree(src);
    for (const paths of [
      [path.join(src, 'docs'), src],
      [src, path.join(src, 'docs', 'deep'), path.join(src, 'hello.txt')],
      [path.join(src, 'docs', 'deep', 'er'), path.join(src, 'docs'), src, src],
    ]) {
      const { repo } = await newRepository();
      const { id, snapshot } = await runBackup(repo, { paths });
      expect(snapshot.summary.files).toBe(5);
      const target = tempDir('restore');
      await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
      expect(describeTree(path.join(target, src))).toEqual(before);
    }
  });

  it('07.7 a file rewritten in place, its size and modification time kept, is read again by the next backup', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    const file = path.join(src, 'hello.txt');
    const { mtime } = lstatSync(file);
    await runBackup(repo, { paths: [src] });
    // Same inode, same size, the old modification time put back (as some tools and careless scripts do).
    writeFileSync(file, 'HELLO, WORLD\n');
    utimesSync(file, mtime, mtime);
    const { id, snapshot } = await runBackup(repo, { paths: [src] });
    expect(snapshot.summary.filesRead).toBe(1);
    const target = tempDir('restore');
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
    expect(readFileSync(path.join(target, file), 'utf8')).toBe('HELLO, WORLD\n');
    // Told to ignore ctime (a file system where it moves on its own), a backup trusts size, mtime and inode.
    writeFileSync(file, 'hello, there\n');
    utimesSync(file, mtime, mtime);
    const trusting = await runBackup(repo, { paths: [src], ignoreCtime: true });
    expect(trusting.snapshot.summary.filesRead).toBe(0);
  });

  it('07.9 a path below a symlinked directory is backed up through the link, and restores under the path given', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    const link = path.join(tempDir('links'), 'to-data');
    symlinkSync(src, link);
    const { id, snapshot } = await runBackup(repo, { paths: [path.join(link, 'docs')] });
    expect(snapshot.summary.files).toBe(3);
    const target = tempDir('restore');
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
    // The link's own place holds a directory: what the backup went through, not a link to somewhere else.
    expect(lstatSync(path.join(target, link)).isDirectory()).toBe(true);
    expect(describeTree(path.join(target, link, 'docs'))).toEqual(describeTree(path.join(src, 'docs')));
    // A path below a link that is itself named is not followed through it: it is a skip, and says why.
    const both = await runBackup(repo, { paths: [link, path.join(link, 'docs')] });
    expect(both.snapshot.summary.skipped).toBe(1);
    expect(both.snapshot.warnings[0]).toMatch(
      /docs: not backed up: it lies below .*to-data, which is backed up as a symbolic link/,
    );
    // A path through a file is refused with a clear error.
    await expect(runBackup(repo, { paths: [path.join(src, 'hello.txt', 'x')] })).rejects.toThrow(
      /hello\.txt is not a directory/,
    );
  });
});

describe('comparing snapshots', () => {
  it('lists added, removed and changed entries', async () => {
    const { repo } = await newRepository();
    const src = makeSource();
    const first = await runBackup(repo, { paths: [src] });
    writeFileSync(path.join(src, 'hello.txt'), 'changed\n');
    writeFileSync(path.join(src, 'docs', 'new.md'), 'new');
    rmSync(path.join(src, 'script.sh'));
    const second = await runBackup(repo, { paths: [src] });
    const entries = await diffSnapshots(repo, first.snapshot.tree, second.snapshot.tree);
    const mine = entries.filter((e) => e.path.startsWith(src)).map((e) => [e.change, e.path.slice(src.length)]);
    expect(mine).toEqual([
      ['added', '/docs/new.md'],
      ['changed', '/hello.txt'],
      ['removed', '/script.sh'],
    ]);
  });
});
