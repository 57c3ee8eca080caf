// Copies between repositories with different keys (lifeline copy): what is copied restores byte for byte from the
// second repository alone, a copy run again adds nothing, and a killed copy run again uploads no blob twice.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { cli, type CliResult, describeTree, PASSWORD, resultOf, tempDir } from './helpers';

const OTHER_PASSWORD = 'a different passphrase for the second repository';

function repository(password?: string): { location: string; args: string[] } {
  const dir = tempDir('copy-repo');
  const location = path.join(dir, 'repo');
  const args = ['--repo', location];
  if (password) {
    const file = path.join(dir, 'passphrase');
    writeFileSync(file, password, { mode: 0o600 });
    args.push('--password-file', file);
  }
  expect(cli(['init', ...args]).code).toBe(0);
  return { location, args };
}

function tree(label: string, files: Record<string, string | Buffer>): string {
  const root = path.join(tempDir(label), 'data');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  return root;
}

/** `lifeline copy ARGS`, the first repository opened with the tests' passphrase. */
function copy(args: string[], env: Record<string, string> = {}): CliResult {
  return cli(['copy', ...args], { LIFELINE_FROM_PASSWORD: PASSWORD, ...env });
}

interface Listed {
  id: string;
  source: string;
  time: string;
  original?: string;
}

function snapshots(args: string[]): Listed[] {
  return resultOf(cli(['snapshots', ...args, '--json'])).snapshots as Listed[];
}

/** Bytes of the packs stored (a temporary file a killed write left is not one). */
function packBytes(location: string): number {
  let total = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
      else if (!entry.name.includes('.tmp-')) total += statSync(path.join(dir, entry.name)).size;
  };
  walk(path.join(location, 'data'));
  return total;
}

describe('lifeline copy', () => {
  it('12.3 copies every snapshot with its data into a repository with another key, where each restores byte for byte; run again, it adds nothing', () => {
    const a = repository();
    const b = repository(OTHER_PASSWORD);
    const app = tree('copy-app', {
      'config.json': '{"a":1}',
      'logs/today.log': 'line\n'.repeat(5000),
      'blob.bin': randomBytes(300_000),
    });
    const db = tree('copy-db', { 'notes.txt': 'same in both trees', 'big.bin': randomBytes(200_000) });
    expect(cli(['backup', ...a.args, '--node', 'app', '--source', 'files', app]).code).toBe(0);
    writeFileSync(path.join(app, 'config.json'), '{"a":2}');
    expect(cli(['backup', ...a.args, '--node', 'app', '--source', 'files', app]).code).toBe(0);
    expect(cli(['backup', ...a.args, '--node', 'db', '--source', 'files', db]).code).toBe(0);
    const originals = snapshots(a.args);

    const copied = copy(['--from-repo', a.location, ...b.args, '--json']);
    expect(copied.code, copied.stderr).toBe(0);
    const result = resultOf(copied) as { snapshots: { from: string; to: string; copied: boolean }[] };
    expect(result.snapshots.map((s) => [s.from, s.copied])).toEqual(originals.map((s) => [s.id, true]));

    const copies = snapshots(b.args);
    expect(copies.map((s) => [s.original, s.source, s.time])).toEqual(originals.map((s) => [s.id, s.source, s.time]));
    // Another key: other blob ids, so other snapshot ids too.
    expect(copies.map((s) => s.id).filter((id) => originals.some((o) => o.id === id))).toEqual([]);
    expect(cli(['verify', ...b.args, '--read-data']).code).toBe(0);
    // The newest copy of app:files restores the tree as it is now; the older one, the first config.
    const newest = path.join(tempDir('copy-restore'), 'out');
    expect(cli(['restore', ...b.args, copies[1].id, '--target', newest]).code).toBe(0);
    expect(describeTree(path.join(newest, app))).toEqual(describeTree(app));
    const older = path.join(tempDir('copy-restore'), 'out');
    expect(cli(['restore', ...b.args, copies[0].id, '--target', older]).code).toBe(0);
    expect(statSync(path.join(older, app, 'config.json')).size).toBe('{"a":1}'.length);
    const dbOut = path.join(tempDir('copy-restore'), 'out');
    expect(cli(['restore', ...b.args, copies[2].id, '--target', dbOut]).code).toBe(0);
    expect(describeTree(path.join(dbOut, db))).toEqual(describeTree(db));

    const bytes = packBytes(b.location);
    const again = resultOf(copy(['--from-repo', a.location, ...b.args, '--json'])) as {
      snapshots: { copied: boolean }[];
      newBytes: number;
    };
    expect(again.snapshots.map((s) => s.copied)).toEqual([false, false, false]);
    expect(again.newBytes).toBe(0);
    expect(packBytes(b.location)).toBe(bytes);
    expect(snapshots(b.args)).toHaveLength(3);
  });

  it('12.3 copies only the source or the snapshots named; a name that matches nothing copies nothing', () => {
    const a = repository();
    const b = repository(OTHER_PASSWORD);
    const one = tree('copy-one', { 'a.txt': 'one' });
    const two = tree('copy-two', { 'b.txt': 'two' });
    expect(cli(['backup', ...a.args, '--node', 'web', '--source', 'one', one]).code).toBe(0);
    expect(cli(['backup', ...a.args, '--node', 'web', '--source', 'two', two]).code).toBe(0);
    const [first, second] = snapshots(a.args);

    const wrong = copy(['--from-repo', a.location, ...b.args, first.id, 'ffffffff']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/ffffffff/);
    expect(snapshots(b.args)).toEqual([]);

    expect(copy(['--from-repo', a.location, ...b.args, '--source', 'web:two']).code).toBe(0);
    expect(snapshots(b.args).map((s) => s.original)).toEqual([second.id]);
    expect(copy(['--from-repo', a.location, ...b.args, first.id.slice(0, 8)]).code).toBe(0);
    expect(
      snapshots(b.args)
        .map((s) => s.original)
        .sort(),
    ).toEqual([first.id, second.id].sort());
  });

  it('12.3 refuses a wrong passphrase for the repository copied from, and a copy of a repository into itself, writing nothing', () => {
    const a = repository();
    const b = repository(OTHER_PASSWORD);
    const src = tree('copy-refuse', { 'a.txt': 'x' });
    expect(cli(['backup', ...a.args, src]).code).toBe(0);
    const wrong = copy(['--from-repo', a.location, ...b.args], { LIFELINE_FROM_PASSWORD: 'not it' });
    expect(wrong.code).toBe(12);
    expect(snapshots(b.args)).toEqual([]);
    expect(readdirSync(path.join(b.location, 'locks'))).toEqual([]);
    const self = copy(['--from-repo', a.location, ...a.args]);
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/into itself/);
    expect(snapshots(a.args)).toHaveLength(1);
  });

  it('12.3 a copy killed after its second pack, run again, uploads no blob twice and ends with the same snapshots', () => {
    const a = repository();
    const src = tree('copy-big', {
      ...Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`part-${i}.bin`, randomBytes(10 * 2 ** 20)])),
      'small.txt': 'small',
    });
    expect(cli(['backup', ...a.args, src]).code).toBe(0);
    const clean = repository(OTHER_PASSWORD);
    expect(copy(['--from-repo', a.location, ...clean.args]).code).toBe(0);

    const b = repository(OTHER_PASSWORD);
    const killed = copy(['--from-repo', a.location, ...b.args], { LIFELINE_TEST_CRASH_AFTER: 'pack:2' });
    expect(killed.signal).toBe('SIGKILL');
    expect(snapshots(b.args)).toEqual([]);
    // What the killed copy left durable (its packs are written a few at a time, so how many depends on the machine).
    const left = packBytes(b.location);
    expect(left).toBeGreaterThan(0);
    const rerun = copy(['--from-repo', a.location, ...b.args, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    // The packs the killed copy wrote were adopted, not written again: the repository holds what a clean copy does
    // (give or take the compression of tree blobs, which name other ids under another key).
    expect(Math.abs(packBytes(b.location) - packBytes(clean.location))).toBeLessThan(4096);
    // And the run again added only what was missing: the whole less what the killed copy left.
    expect((resultOf(rerun) as { newBytes: number }).newBytes).toBeLessThan(packBytes(clean.location) - left + 2 ** 20);
    expect(snapshots(b.args).map((s) => [s.original, s.time])).toEqual(
      snapshots(clean.args).map((s) => [s.original, s.time]),
    );
    expect(cli(['verify', ...b.args, '--read-data']).code).toBe(0);
  });
});
