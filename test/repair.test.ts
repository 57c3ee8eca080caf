// 08.6: one damaged object stops nothing else; repair index, repair snapshots, unlock and forget ID put a
// damaged repository right.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { openRepository } from '@/lib/engine';
import { sealLockRecord } from '@/lib/engine/repository/lock';
import { cli, describeTree, PASSWORD, resultOf, tempDir } from './helpers';

function initRepo(): string {
  const repo = path.join(tempDir('repair-repo'), 'repo');
  expect(cli(['init', '--repo', repo, '--json']).code).toBe(0);
  return repo;
}

function source(label: string, files: Record<string, Buffer | string>): string {
  const dir = path.join(tempDir(`repair-${label}`), label);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

function backup(repo: string, dir: string): { id: string; warnings: string[] } {
  const r = cli(['backup', '--repo', repo, '--json', dir]);
  expect(r.code).toBe(0);
  return resultOf(r) as unknown as { id: string; warnings: string[] };
}

function damage(file: string): void {
  chmodSync(file, 0o600);
  const bytes = readFileSync(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0x40;
  writeFileSync(file, bytes);
}

const names = (repo: string, kind: string) => readdirSync(path.join(repo, kind)).sort();

describe('08.6 a damaged snapshot or index file', () => {
  it('08.6 verify names each and checks the rest; backup and forget name them and go on; prune refuses until they are repaired', () => {
    const repo = initRepo();
    const docs = source('docs', { 'a.txt': 'first source' });
    const first = backup(repo, docs);
    const indexBefore = names(repo, 'index');
    const site = source('site', { 'index.html': randomBytes(200_000) });
    const second = backup(repo, site);
    const [secondIndex] = names(repo, 'index').filter((n) => !indexBefore.includes(n));
    damage(path.join(repo, 'snapshots', first.id));
    damage(path.join(repo, 'index', secondIndex));

    const verify = cli(['verify', '--repo', repo, '--json']);
    expect(verify.code).toBe(1);
    const errors = resultOf(verify).errors as string[];
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^snapshots/${first.id} cannot be read`)),
        expect.stringMatching(new RegExp(`^index/${secondIndex} cannot be read`)),
        // The rest is still checked: the second snapshot's blobs were listed only in the damaged index.
        expect.stringMatching(new RegExp(`^snapshot ${second.id.slice(0, 8)}: blob .* is missing from the index`)),
      ]),
    );

    // On a machine whose cache holds them whole (this one: the backups above wrote them) a backup reads those copies
    // and never sees the damage, as restic's does; verify, which reads the repository, found it above. From a
    // machine without them, a backup and a forget read the damaged objects, name them and go on.
    const warm = cli(['backup', '--repo', repo, '--json', site]);
    expect(warm.code).toBe(0);
    const cold = tempDir('cold-cache');
    const again = cli(['backup', '--repo', repo, '--cache-dir', cold, '--json', site]);
    expect(again.code).toBe(0);
    const warned = again.json.filter((l) => l.type === 'warning').map((l) => l.path);
    expect(warned).toEqual(expect.arrayContaining([`snapshots/${first.id}`, `index/${secondIndex}`]));

    const forget = cli(['forget', '--repo', repo, '--cache-dir', tempDir('cold-cache'), '--json', '--keep-last', '1']);
    expect(forget.code).toBe(0);
    // It reads no index: the damaged snapshot is what it names (and leaves alone).
    expect(resultOf(forget).damaged).toEqual([`snapshots/${first.id}`]);

    const prune = cli(['prune', '--repo', repo]);
    expect(prune.code).not.toBe(0);
    expect(prune.stderr).toMatch(/prune refuses to run while 2 index files or snapshots cannot be read/);
    expect(names(repo, 'index')).toContain(secondIndex);

    expect(cli(['repair', 'index', '--repo', repo, '--json']).code).toBe(0);
    const repaired = resultOf(cli(['repair', 'snapshots', '--repo', repo, '--json']));
    expect(repaired.removed).toEqual([first.id]);
    expect(cli(['prune', '--repo', repo, '--json']).code).toBe(0);
    const clean = cli(['verify', '--repo', repo, '--read-data', '--json']);
    expect(resultOf(clean).errors).toEqual([]);
  });

  it('08.6 repair index rebuilds the index from the packs’ own headers, and every snapshot restores', () => {
    const repo = initRepo();
    const dir = source('files', { 'big.bin': randomBytes(3_000_000), 'small.txt': 'small' });
    const { id } = backup(repo, dir);
    for (const name of names(repo, 'index')) rmSync(path.join(repo, 'index', name));
    const dry = resultOf(cli(['repair', 'index', '--repo', repo, '--dry-run', '--json']));
    expect(dry.packs).toBe(names(repo, 'data').flatMap((d) => names(repo, `data/${d}`)).length);
    expect(names(repo, 'index')).toEqual([]);
    expect(cli(['repair', 'index', '--repo', repo, '--json']).code).toBe(0);
    expect(resultOf(cli(['verify', '--repo', repo, '--read-data', '--json'])).errors).toEqual([]);
    const target = tempDir('repair-target');
    expect(cli(['restore', '--repo', repo, id, '--target', target, '--json']).code).toBe(0);
    expect(describeTree(path.join(target, dir))).toEqual(describeTree(dir));
  });

  it('08.6 repair snapshots saves a snapshot whose file lost its data again without that file, and keeps the rest', async () => {
    const repo = initRepo();
    const dir = source('files', { 'kept.txt': 'this stays readable' });
    backup(repo, dir);
    writeFileSync(path.join(dir, 'lost.bin'), randomBytes(400_000));
    const { id } = backup(repo, dir);
    // The pack that holds lost.bin's data goes missing.
    const opened = await openRepository(repo, PASSWORD);
    await opened.loadIndex();
    const snapshot = await opened.resolveSnapshot(id);
    let node = (await opened.readTree(snapshot.tree)).nodes;
    for (const part of dir.split('/').filter(Boolean)) {
      const next = node.find((n) => n.name === part)!;
      node = next.subtree ? (await opened.readTree(next.subtree)).nodes : [];
    }
    const lost = node.find((n) => n.name === 'lost.bin')!;
    const pack = opened.index.get(lost.content![0])!.pack;
    rmSync(path.join(repo, 'data', pack.slice(0, 2), pack));

    expect(cli(['repair', 'index', '--repo', repo, '--json']).code).toBe(0);
    const dry = resultOf(cli(['repair', 'snapshots', '--repo', repo, '--dry-run', '--json']));
    expect(dry.rewritten).toEqual([
      expect.objectContaining({ id, newId: null, dropped: [`${dir}/lost.bin: part of its content is gone; left out`] }),
    ]);
    const done = resultOf(cli(['repair', 'snapshots', '--repo', repo, '--json']));
    const newId = (done.rewritten as { newId: string }[])[0].newId;
    const list = resultOf(cli(['snapshots', '--repo', repo, '--json'])).snapshots as { id: string; tags: string[] }[];
    expect(list.map((s) => s.id)).not.toContain(id);
    expect(list.find((s) => s.id === newId)?.tags).toEqual(['repaired']);
    expect(resultOf(cli(['verify', '--repo', repo, '--read-data', '--json'])).errors).toEqual([]);
    const target = tempDir('repair-snap-target');
    expect(cli(['restore', '--repo', repo, newId, '--target', target, '--json']).code).toBe(0);
    expect(readdirSync(path.join(target, dir))).toEqual(['kept.txt']);
    expect(readFileSync(path.join(target, dir, 'kept.txt'), 'utf8')).toBe('this stays readable');
  });
});

describe('08.6 unlock and forget ID', () => {
  it('08.6 repair of anything but index or snapshots is a usage error, before any passphrase is asked for', () => {
    const r = cli(['repair', 'everything', '--repo', '/nonexistent'], { LIFELINE_PASSWORD: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: lifeline repair index\|snapshots/);
  });

  it('08.6 unlock removes a stale lock and leaves a live one; --remove-all removes every lock', async () => {
    const repo = initRepo();
    const opened = await openRepository(repo, PASSWORD);
    const lock = (name: string, pid: number) =>
      opened.storage.put(
        `locks/${name}`,
        sealLockRecord(opened.key.encryption, {
          host: os.hostname(),
          pid,
          exclusive: true,
          operation: 'backup',
          time: Date.now(),
        }),
      );
    // Above Linux's largest pid (2^22): no process has it, so the lock is stale on this host.
    await lock('a'.repeat(32), 2 ** 22 + 12_345);
    await lock('b'.repeat(32), process.pid);
    expect(resultOf(cli(['unlock', '--repo', repo, '--json'])).removed).toEqual(['a'.repeat(32)]);
    expect(names(repo, 'locks')).toEqual(['b'.repeat(32)]);
    expect(resultOf(cli(['unlock', '--repo', repo, '--remove-all', '--json'])).removed).toEqual(['b'.repeat(32)]);
    expect(names(repo, 'locks')).toEqual([]);
  });

  it('08.6 forget ID removes exactly the snapshots named; an id that matches none removes nothing', () => {
    const repo = initRepo();
    const dir = source('files', { 'a.txt': 'a' });
    const first = backup(repo, dir);
    writeFileSync(path.join(dir, 'b.txt'), 'b');
    const second = backup(repo, dir);
    const typo = cli(['forget', '--repo', repo, first.id.slice(0, 8), 'ffff0000']);
    expect(typo.code).not.toBe(0);
    expect(names(repo, 'snapshots')).toEqual([first.id, second.id].sort());
    const r = cli(['forget', '--repo', repo, '--json', first.id.slice(0, 8)]);
    expect(r.code).toBe(0);
    expect(resultOf(r).removed).toEqual([first.id]);
    expect(names(repo, 'snapshots')).toEqual([second.id]);
  });
});
