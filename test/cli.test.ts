import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { cli, describeTree, resultOf, tempDir } from './helpers';

function source(): string {
  const src = path.join(tempDir('cli-src'), 'site');
  mkdirSync(path.join(src, 'assets'), { recursive: true });
  writeFileSync(path.join(src, 'index.html'), '<h1>hello</h1>\n');
  writeFileSync(path.join(src, 'assets', 'app.js'), 'console.log(1);\n'.repeat(1000));
  return src;
}

function initRepo(): string {
  const repo = path.join(tempDir('cli-repo'), 'repo');
  const r = cli(['init', '--repo', repo, '--json']);
  expect(r.code).toBe(0);
  return repo;
}

describe('lifeline CLI', () => {
  it('init, backup, snapshots, ls, restore latest and verify, in JSON', () => {
    const repo = initRepo();
    const src = source();
    const backup = cli(['backup', '--repo', repo, '--json', '--tag', 'nightly', src]);
    expect(backup.code).toBe(0);
    expect(backup.json.some((l) => l.type === 'progress')).toBe(true);
    const id = resultOf(backup).id as string;
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const list = resultOf(cli(['snapshots', '--repo', repo, '--json'])).snapshots as {
      id: string;
      tags: string[];
      paths: string[];
    }[];
    expect(list.map((s) => s.id)).toEqual([id]);
    expect(list[0].tags).toEqual(['nightly']);
    expect(list[0].paths).toEqual([src]);

    const ls = resultOf(cli(['ls', '--repo', repo, '--json', id.slice(0, 8), src]));
    expect((ls.nodes as { name: string }[]).map((n) => n.name)).toEqual(['assets', 'index.html']);

    const target = tempDir('cli-target');
    const restored = cli(['restore', '--repo', repo, 'latest', '--target', target, '--json']);
    expect(restored.code).toBe(0);
    expect(resultOf(restored).verified).toBe(true);
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));

    const verify = cli(['verify', '--repo', repo, '--read-data', '--json']);
    expect(verify.code).toBe(0);
    expect(resultOf(verify).ok).toBe(true);
  });

  it('LIFELINE_REPO stands for --repo and --password-file for LIFELINE_PASSWORD', () => {
    const repo = initRepo();
    const pwFile = path.join(tempDir('pw'), 'pw');
    writeFileSync(pwFile, 'correct horse battery staple\n', { mode: 0o600 });
    const r = cli(['snapshots', '--json', '--password-file', pwFile], {
      LIFELINE_REPO: repo,
      LIFELINE_PASSWORD: undefined,
    });
    expect(r.code).toBe(0);
    expect(resultOf(r).snapshots).toEqual([]);
  });

  it('exit codes: no repository 10, wrong passphrase 12, bad usage 2', () => {
    const missing = cli(['snapshots', '--repo', path.join(tempDir('none'), 'nothing'), '--json']);
    expect(missing.code).toBe(10);
    expect(missing.json[0]).toMatchObject({ type: 'error', code: 'no-repository' });

    const repo = initRepo();
    const wrong = cli(['snapshots', '--repo', repo], { LIFELINE_PASSWORD: 'not the passphrase' });
    expect(wrong.code).toBe(12);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(wrong.stderr).not.toContain('not the passphrase');

    expect(cli(['backup', '--repo', repo, '--bogus']).code).toBe(2);
    expect(cli(['restore', '--repo', repo, 'latest']).code).toBe(2);
    expect(cli(['frobnicate']).code).toBe(2);
    expect(cli(['forget', '--repo', repo]).stderr).toMatch(/at least one --keep/);
  });

  it('refuses a repository of a newer format with a clear message', () => {
    const repo = initRepo();
    const configFile = path.join(repo, 'config');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    chmodSync(configFile, 0o600);
    writeFileSync(configFile, JSON.stringify({ ...config, format: 99 }));
    const r = cli(['snapshots', '--repo', repo]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/uses format 99, newer than this lifeline reads \(1\); upgrade lifeline/);
  });

  it('exits 3 when the backup finished but skipped an unreadable file', () => {
    const repo = initRepo();
    const src = source();
    writeFileSync(path.join(src, 'private.key'), 'secret');
    const { code, lines } = backupUnprivileged(repo, src, () => chmodSync(path.join(src, 'private.key'), 0o000));
    expect(code).toBe(3);
    expect(lines.some((l) => l.type === 'warning' && l.path === path.join(src, 'private.key'))).toBe(true);
    expect(lines.at(-1)).toMatchObject({ type: 'result', summary: { files: 2, skipped: 1 } });
  });

  it('07.5 an unreadable directory and an entry that cannot be looked at are skips: warned, counted, kept in the snapshot, exit 3', () => {
    const repo = initRepo();
    const src = source();
    mkdirSync(path.join(src, 'locked'));
    writeFileSync(path.join(src, 'locked', 'inside.txt'), 'unseen');
    mkdirSync(path.join(src, 'list-only'));
    writeFileSync(path.join(src, 'list-only', 'payroll.csv'), 'unseen');
    const { code, lines } = backupUnprivileged(repo, src, () => {
      chmodSync(path.join(src, 'locked'), 0o000);
      // Names can be listed, but nothing in it can be looked at (no search permission).
      chmodSync(path.join(src, 'list-only'), 0o444);
    });
    const result = lines.at(-1)!;
    const skippedPaths = [path.join(src, 'locked'), path.join(src, 'list-only', 'payroll.csv')];
    expect({ code, type: result.type, skipped: result.summary.skipped }).toEqual({
      code: 3,
      type: 'result',
      skipped: 2,
    });
    for (const p of skippedPaths) expect(result.warnings.some((w) => w.startsWith(p))).toBe(true);
    // The snapshot keeps them too: a later look at it says what it lacks.
    const snapshots = resultOf(cli(['snapshots', '--repo', repo, '--json'])).snapshots as BackupLine[];
    const listed = snapshots.at(-1)!;
    expect(listed.summary.skipped).toBe(2);
    expect(listed.warnings).toEqual(result.warnings);
    chmodSync(path.join(src, 'locked'), 0o755);
    chmodSync(path.join(src, 'list-only'), 0o755);
  });

  it('key add, list, passwd and remove: several passphrases open one repository', () => {
    const repo = initRepo();
    const added = cli(['key', 'add', '--repo', repo, '--json'], { LIFELINE_NEW_PASSWORD: 'second passphrase' });
    expect(added.code).toBe(0);
    const secondId = resultOf(added).id as string;
    expect(cli(['snapshots', '--repo', repo], { LIFELINE_PASSWORD: 'second passphrase' }).code).toBe(0);

    const keys = resultOf(cli(['key', 'list', '--repo', repo, '--json'])).keys as { id: string; current: boolean }[];
    expect(keys).toHaveLength(2);
    const firstId = keys.find((k) => k.current)!.id;

    const passwd = cli(['key', 'passwd', '--repo', repo, '--json'], { LIFELINE_NEW_PASSWORD: 'third passphrase' });
    expect(passwd.code).toBe(0);
    expect(cli(['snapshots', '--repo', repo]).code).toBe(12);
    expect(cli(['snapshots', '--repo', repo], { LIFELINE_PASSWORD: 'third passphrase' }).code).toBe(0);

    const removeSelf = cli(['key', 'remove', secondId.slice(0, 8), '--repo', repo], {
      LIFELINE_PASSWORD: 'second passphrase',
    });
    expect(removeSelf.code).toBe(2);
    expect(removeSelf.stderr).toMatch(/refusing to remove the key this passphrase opened/);
    expect(
      cli(['key', 'remove', secondId.slice(0, 8), '--repo', repo], { LIFELINE_PASSWORD: 'third passphrase' }).code,
    ).toBe(0);
    expect(cli(['snapshots', '--repo', repo], { LIFELINE_PASSWORD: 'second passphrase' }).code).toBe(12);
    expect(firstId).not.toBe(secondId);
  });

  it('forget --keep-last with --prune removes old snapshots and the data only they used', () => {
    const repo = initRepo();
    const src = source();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) rmSync(path.join(src, `only-in-${i - 1}.bin`));
      writeFileSync(path.join(src, `only-in-${i}.bin`), randomBytes(300_000));
      ids.push(resultOf(cli(['backup', '--repo', repo, '--json', src])).id as string);
    }
    const dry = resultOf(cli(['forget', '--repo', repo, '--keep-last', '1', '--dry-run', '--json']));
    expect(dry.removed).toEqual(expect.arrayContaining([ids[0], ids[1]]));
    expect((resultOf(cli(['snapshots', '--repo', repo, '--json'])).snapshots as unknown[]).length).toBe(3);

    const before = dataBytes(repo);
    const forget = cli(['forget', '--repo', repo, '--keep-last', '1', '--prune', '--json']);
    expect(forget.code).toBe(0);
    expect((resultOf(forget).prune as { packsDeleted: number }).packsDeleted).toBeGreaterThanOrEqual(2);
    // The two 300 kB files only the forgotten snapshots had are gone from the repository.
    expect(before - dataBytes(repo)).toBeGreaterThan(550_000);
    const left = resultOf(cli(['snapshots', '--repo', repo, '--json'])).snapshots as { id: string }[];
    expect(left.map((s) => s.id)).toEqual([ids[2]]);
    expect(cli(['verify', '--repo', repo, '--read-data']).code).toBe(0);
    const target = tempDir('after-prune');
    expect(cli(['restore', '--repo', repo, 'latest', '--target', target]).code).toBe(0);
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
  });

  it('15.2 forget judges only the snapshots with --tag, and per value of the tag that --group-by-tag names', () => {
    const repo = initRepo();
    const src = source();
    const backup = (...tags: string[]) =>
      resultOf(cli(['backup', '--repo', repo, '--json', ...tags.flatMap((t) => ['--tag', t]), src])).id as string;
    const ships = [backup('ship'), backup('ship'), backup('ship')];
    const a = [backup('base', 'db:a.db'), backup('base', 'db:a.db'), backup('base', 'db:a.db')];
    const b = [backup('base', 'db:b.db')];
    const kept = () =>
      (resultOf(cli(['snapshots', '--repo', repo, '--json'])).snapshots as { id: string }[]).map((s) => s.id);

    expect(cli(['forget', '--repo', repo, '--tag', 'base', '--group-by-tag', 'db:', '--keep-last', '2']).code).toBe(0);
    // Each database keeps its newest two bases; the ships, without the tag, are not judged at all.
    expect(kept().sort()).toEqual([...ships, a[1], a[2], ...b].sort());
    expect(cli(['forget', '--repo', repo, '--tag', 'ship', '--keep-last', '1']).code).toBe(0);
    expect(kept().sort()).toEqual([ships[2], a[1], a[2], ...b].sort());
  });
});

function dataBytes(repo: string): number {
  let total = 0;
  for (const sub of readdirSync(path.join(repo, 'data'))) {
    for (const f of readdirSync(path.join(repo, 'data', sub))) total += statSync(path.join(repo, 'data', sub, f)).size;
  }
  return total;
}

/** A line of `backup --json`: progress, warning or the result. */
interface BackupLine {
  type: string;
  path?: string;
  summary: { files: number; skipped: number };
  warnings: string[];
}

/** Runs `backup --json` as an unprivileged user when the tests run as root (root reads any file), with the
 *  repository and source opened up to it; `lock` then takes permissions away. The exit code and JSON lines. */
function backupUnprivileged(repo: string, src: string, lock: () => void): { code: number; lines: BackupLine[] } {
  const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] : [];
  if (asUser.length) execFileSync('chmod', ['-R', 'a+rwX', path.dirname(repo), path.dirname(src)]);
  lock();
  const args = [
    process.execPath,
    path.resolve(__dirname, '..', 'bin', 'lifeline.cjs'),
    'backup',
    '--repo',
    repo,
    '--json',
    src,
  ];
  let code = 0;
  let stdout = '';
  try {
    stdout = execFileSync(asUser[0] ?? args[0], [...asUser.slice(1), ...(asUser.length ? args : args.slice(1))], {
      env: { ...process.env, LIFELINE_PASSWORD: 'correct horse battery staple' },
      encoding: 'utf8',
    });
  } catch (err) {
    code = (err as { status: number }).status;
    stdout = (err as { stdout: string }).stdout;
  }
  return {
    code,
    lines: stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
  };
}
