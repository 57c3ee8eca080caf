// 16.4 `lifeline dump`: a file of a snapshot as its bytes, a folder as a tar stream that unpacks to the same tree;
// damage in the repository stops a dump with an error (and leaves no file behind), a path the snapshot does not
// hold writes nothing. Real repositories, the real CLI, GNU tar to unpack.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { CLI, cli, PASSWORD, resultOf, tempDir } from './helpers';

function dump(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'dump', ...args], {
    env: { ...process.env, LIFELINE_PASSWORD: PASSWORD },
    maxBuffer: 256 << 20,
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

async function backedUp() {
  const repo = path.join(tempDir('dump-repo'), 'repo');
  expect(cli(['init', '--repo', repo, '--json']).code).toBe(0);
  const src = path.join(tempDir('dump-src'), 'site');
  mkdirSync(path.join(src, 'media', 'deep'), { recursive: true });
  writeFileSync(path.join(src, 'index.html'), '<h1>hello</h1>\n');
  // Several chunks: the file is put back together from many blobs, in order.
  const big = randomBytes(9 << 20);
  writeFileSync(path.join(src, 'media', 'deep', 'video.bin'), big);
  writeFileSync(path.join(src, 'media', 'empty.txt'), '');
  chmodSync(path.join(src, 'index.html'), 0o640);
  symlinkSync('index.html', path.join(src, 'home.html'));
  const backup = cli(['backup', '--repo', repo, src, '--json']);
  expect(backup.code, backup.stderr).toBe(0);
  return { repo, src, big, id: String(resultOf(backup).id) };
}

describe('16.4 lifeline dump', () => {
  it('16.4 dumps a file byte for byte, an empty file as nothing, and a folder as a tar that unpacks to the same files, modes and links', async () => {
    const { repo, src, big, id } = await backedUp();
    const file = dump(['--repo', repo, id, path.join(src, 'media', 'deep', 'video.bin'), '--json']);
    expect(file.code, file.stderr).toBe(0);
    expect(file.stdout.equals(big)).toBe(true);
    // With the data on stdout, the lines go to stderr.
    const lines = file.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ type: 'dump', kind: 'file' });
    expect(lines[1]).toMatchObject({ type: 'result', kind: 'file', files: 1, bytes: big.length, output: null });

    const empty = dump(['--repo', repo, id, path.join(src, 'media', 'empty.txt')]);
    expect(empty.code).toBe(0);
    expect(empty.stdout.length).toBe(0);

    const out = path.join(tempDir('dump-out'), 'site.tar');
    const folder = dump(['--repo', repo, id, src, '--output', out, '--json']);
    expect(folder.code, folder.stderr).toBe(0);
    expect(folder.stdout.length).toBeGreaterThan(0);
    const into = tempDir('dump-unpacked');
    const tar = spawnSync('tar', ['-xf', out, '-C', into, '--same-permissions']);
    expect(tar.status, tar.stderr.toString()).toBe(0);
    const unpacked = path.join(into, 'site');
    expect(readFileSync(path.join(unpacked, 'media', 'deep', 'video.bin')).equals(big)).toBe(true);
    expect(readFileSync(path.join(unpacked, 'index.html'), 'utf8')).toBe('<h1>hello</h1>\n');
    expect(readFileSync(path.join(unpacked, 'media', 'empty.txt')).length).toBe(0);
    expect(readlinkSync(path.join(unpacked, 'home.html'))).toBe('index.html');
    expect((await import('node:fs')).statSync(path.join(unpacked, 'index.html')).mode & 0o777).toBe(0o640);
    expect(readdirSync(path.dirname(out))).toEqual(['site.tar']);
  }, 120_000);

  it('16.4 a path the snapshot does not hold writes nothing and says so; a dump of damaged data stops with an error and leaves no file', async () => {
    const { repo, src, id } = await backedUp();
    const missing = dump(['--repo', repo, id, path.join(src, 'nope.txt'), '--json']);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout.length).toBe(0);
    expect(JSON.parse(missing.stderr.trim().split('\n').at(-1)!)).toMatchObject({
      type: 'error',
      code: 'not-found',
      message: `${path.join(src, 'nope.txt')} is not in the snapshot`,
    });
    const notAFile = dump(['--repo', repo, id, path.join(src, 'home.html')]);
    expect(notAFile.code).not.toBe(0);
    expect(notAFile.stderr).toContain('is a symlink, not a file');

    // A byte of the largest pack (the video's data) flipped.
    const data = path.join(repo, 'data');
    const packs = readdirSync(data).flatMap((d) => readdirSync(path.join(data, d)).map((f) => path.join(data, d, f)));
    const largest = packs.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
    chmodSync(largest, 0o600);
    const bytes = readFileSync(largest);
    bytes[1000] ^= 0x40;
    writeFileSync(largest, bytes);
    const out = path.join(tempDir('dump-damaged'), 'video.bin');
    const damaged = dump(['--repo', repo, id, path.join(src, 'media', 'deep', 'video.bin'), '--output', out, '--json']);
    expect(damaged.code).not.toBe(0);
    expect(JSON.parse(damaged.stdout.toString().trim().split('\n').at(-1)!)).toMatchObject({
      type: 'error',
      code: 'corrupt',
    });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(path.dirname(out))).toEqual([]);
  }, 120_000);
});
