// 08.4: a restore gives back what the kernel reported of each file: hard links as links, holes as holes, and
// modification times to the microsecond (Node's fs sets no finer times).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { cli, tempDir } from './helpers';

function backupAndRestore(src: string): string {
  const repo = path.join(tempDir('meta-repo'), 'repo');
  expect(cli(['init', '--repo', repo, '--json']).code).toBe(0);
  expect(cli(['backup', '--repo', repo, '--json', src]).code).toBe(0);
  const target = tempDir('meta-target');
  const r = cli(['restore', '--repo', repo, 'latest', '--target', target, '--json']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return path.join(target, src);
}

/** Names grouped by the inode they share, as sorted lists: the link groups, whatever the inode numbers. */
function linkGroups(root: string, names: string[]): string[][] {
  const byInode = new Map<bigint, string[]>();
  for (const name of names) {
    const ino = statSync(path.join(root, name), { bigint: true }).ino;
    byInode.set(ino, [...(byInode.get(ino) ?? []), name]);
  }
  return [...byInode.values()].map((g) => g.sort()).sort((a, b) => a[0].localeCompare(b[0]));
}

describe('08.4 exact metadata', () => {
  it('08.4 hard links come back as links: the names that shared an inode share one, with the content once', () => {
    const src = path.join(tempDir('meta-links'), 'src');
    mkdirSync(path.join(src, 'sub'), { recursive: true });
    writeFileSync(path.join(src, 'a'), randomBytes(100_000));
    linkSync(path.join(src, 'a'), path.join(src, 'b'));
    linkSync(path.join(src, 'a'), path.join(src, 'sub', 'c'));
    writeFileSync(path.join(src, 'd'), readFileSync(path.join(src, 'a')));
    const restored = backupAndRestore(src);
    const names = ['a', 'b', 'd', 'sub/c'];
    expect(linkGroups(restored, names)).toEqual(linkGroups(src, names));
    expect(linkGroups(restored, names)).toEqual([['a', 'b', 'sub/c'], ['d']]);
    for (const name of names)
      expect(readFileSync(path.join(restored, name))).toEqual(readFileSync(path.join(src, name)));
  });

  it('08.4 runs of zeros of 4 KiB or more restore as holes: the restored file takes no more blocks than the original', () => {
    const src = path.join(tempDir('meta-holes'), 'src');
    mkdirSync(src);
    // Sparse: data, a 64 MiB hole, data, and a hole at the end.
    const sparse = path.join(src, 'disk.img');
    const fd = openSync(sparse, 'w');
    writeSync(fd, randomBytes(1 << 20), 0, 1 << 20, 0);
    writeSync(fd, randomBytes(1 << 20), 0, 1 << 20, 65 << 20);
    closeSync(fd);
    execFileSync('truncate', ['-s', `${80 << 20}`, sparse]);
    // Zeros written out: the restore may make them holes.
    writeFileSync(path.join(src, 'zeros.bin'), Buffer.alloc(8 << 20));
    const restored = backupAndRestore(src);
    // In 512-byte blocks. The slack is file-system overhead (extent blocks, ext4's allocation ahead of writes,
    // which varies with the machine's load): 32 KiB and 5 %. Written out, disk.img would take 160 times as much.
    const blocks = (f: string) => statSync(f).blocks;
    const slack = (n: number) => 64 + Math.ceil(n * 0.05);
    expect(statSync(path.join(restored, 'disk.img')).size).toBe(80 << 20);
    expect(blocks(path.join(restored, 'disk.img'))).toBeLessThanOrEqual(blocks(sparse) + slack(blocks(sparse)));
    expect(blocks(path.join(restored, 'zeros.bin'))).toBeLessThanOrEqual(slack(0));
    expect(readFileSync(path.join(restored, 'disk.img')).equals(readFileSync(sparse))).toBe(true);
    expect(readFileSync(path.join(restored, 'zeros.bin')).equals(Buffer.alloc(8 << 20))).toBe(true);
  });

  it('08.4 modification times restore to the microsecond; nanoseconds beyond it are not kept by a restore', () => {
    const src = path.join(tempDir('meta-times'), 'src');
    mkdirSync(src);
    const file = path.join(src, 'f.txt');
    writeFileSync(file, 'timed');
    execFileSync('touch', ['-m', '-d', '@1700000000.123456789', file]);
    // As a double, 1254321637.252389 s is a hair below its microsecond: it must not lose it (found by 08.5).
    const edge = path.join(src, 'edge.txt');
    writeFileSync(edge, 'timed to the microsecond');
    execFileSync('touch', ['-m', '-d', '@1254321637.252389', edge]);
    const restored = backupAndRestore(src);
    expect(statSync(file, { bigint: true }).mtimeNs).toBe(1_700_000_000_123_456_789n);
    expect(statSync(path.join(restored, 'f.txt'), { bigint: true }).mtimeNs).toBe(1_700_000_000_123_456_000n);
    expect(statSync(path.join(restored, 'edge.txt'), { bigint: true }).mtimeNs).toBe(1_254_321_637_252_389_000n);
  });
});
