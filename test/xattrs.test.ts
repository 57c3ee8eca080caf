// 08.4: extended attributes and POSIX ACLs in snapshots, through real backups and restores of real files: every
// attribute reads back byte for byte, an ACL still grants what the mode alone does not, and what a target refuses
// is named, never dropped in silence.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { runRestore } from '@/lib/engine';
import { readXattrs, writeXattrs } from '@/lib/engine/xattrs';
import { CLI, cli, newRepository, PASSWORD, resultOf, tempDir } from './helpers';
import { forgedDir, forgedFile, forgeSnapshot } from './support/forge';
import { posixAcl } from './support/posix-acl';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

function initRepo(): string {
  const repo = path.join(tempDir('xattr-repo'), 'repo');
  expect(cli(['init', '--repo', repo]).code).toBe(0);
  return repo;
}

/** Reads `file` as the user nobody: what an ACL grants, or the mode alone. Null if refused. */
function readAsNobody(file: string): string | null {
  const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'cat', file], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout : null;
}

/** A directory every user may pass through (temporary directories are 0700), for the reads as nobody. */
function openDir(label: string): string {
  const dir = tempDir(label);
  chmodSync(dir, 0o755);
  return dir;
}

/** A security.capability value (struct vfs_cap_data, revision 2) granting one capability, effective. */
function fileCapability(bit: number): string {
  const value = Buffer.alloc(20);
  value.writeUInt32LE(0x02000001, 0);
  value.writeUInt32LE(2 ** bit, 4);
  return value.toString('base64');
}

const set = (file: string, xattrs: { name: string; value: string }[]) => expect(writeXattrs(file, xattrs)).toEqual([]);
const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');

describe('08.4 extended attributes and ACLs in snapshots', () => {
  it.skipIf(!isRoot)(
    '08.4 as root: a file readable by one user only through its ACL stays so after a restore, and every attribute (user, trusted, a file capability, ACLs) of files, directories and links reads back byte for byte',
    () => {
      const repo = initRepo();
      const src = path.join(openDir('xattr-src'), 'data');
      mkdirSync(src, { mode: 0o755 });
      // The mode says: owner and group only. The ACL adds the user nobody.
      const shared = path.join(src, 'shared.txt');
      writeFileSync(shared, 'for nobody too\n', { mode: 0o640 });
      set(shared, [
        {
          name: 'system.posix_acl_access',
          value: posixAcl([
            { tag: 'user_obj', perm: 6 },
            { tag: 'user', id: NOBODY, perm: 4 },
            { tag: 'group_obj', perm: 4 },
            { tag: 'mask', perm: 4 },
            { tag: 'other', perm: 0 },
          ]),
        },
        { name: 'user.checksum', value: b64(Buffer.from([0, 1, 2, 0, 255])) },
        { name: 'user.large', value: b64('x'.repeat(3000)) },
      ]);
      // The same mode without an ACL: nobody is shut out (the test can tell the two apart).
      const closed = path.join(src, 'closed.txt');
      writeFileSync(closed, 'owner and group only\n', { mode: 0o640 });
      // A directory whose new files get an ACL of their own, and a link with an attribute (trusted.*: user.* is
      // not allowed on links).
      const inherit = path.join(src, 'inherit');
      mkdirSync(inherit, { mode: 0o750 });
      set(inherit, [
        {
          name: 'system.posix_acl_default',
          value: posixAcl([
            { tag: 'user_obj', perm: 7 },
            { tag: 'group', id: NOBODY, perm: 5 },
            { tag: 'group_obj', perm: 5 },
            { tag: 'mask', perm: 5 },
            { tag: 'other', perm: 0 },
          ]),
        },
        { name: 'user.note', value: b64('a directory') },
      ]);
      // A program with a file capability (cap_net_raw, effective): the kernel clears it when the owner changes, so
      // it must be set after the owner.
      const ping = path.join(src, 'ping');
      writeFileSync(ping, '#!/bin/sh\n', { mode: 0o755 });
      set(ping, [{ name: 'security.capability', value: fileCapability(13) }]);
      symlinkSync('shared.txt', path.join(src, 'link'));
      set(path.join(src, 'link'), [{ name: 'trusted.origin', value: b64('the link itself') }]);
      expect(readAsNobody(shared)).toBe('for nobody too\n');
      expect(readAsNobody(closed)).toBeNull();

      const backup = cli(['backup', '--repo', repo, '--json', src]);
      expect(backup.code).toBe(0);
      expect(resultOf(backup).warnings).toEqual([]);
      const config = JSON.parse(readFileSync(path.join(repo, 'config'), 'utf8')) as { features: string[] };
      expect(config.features).toContain('xattrs');

      const target = openDir('xattr-target');
      const restore = cli(['restore', '--repo', repo, 'latest', '--target', target, '--json']);
      expect(restore.code).toBe(0);
      expect(resultOf(restore).warnings).toEqual([]);
      const at = (name: string) => path.join(target, src, name);
      for (let dir = path.join(target, src); dir !== target; dir = path.dirname(dir)) chmodSync(dir, 0o755);
      for (const name of ['shared.txt', 'closed.txt', 'inherit', 'ping', 'link'])
        expect({ name, xattrs: readXattrs(at(name)) }).toEqual({ name, xattrs: readXattrs(path.join(src, name)) });
      expect(readAsNobody(at('shared.txt'))).toBe('for nobody too\n');
      expect(readAsNobody(at('closed.txt'))).toBeNull();
      // The default ACL works again: a file made in the restored directory gets nobody's group entry.
      writeFileSync(at('inherit/new.txt'), 'new');
      expect(readXattrs(at('inherit/new.txt')).map((x) => x.name)).toContain('system.posix_acl_access');

      // With --no-xattrs, none is set.
      const bare = openDir('xattr-bare');
      const plain = cli(['restore', '--repo', repo, 'latest', '--target', bare, '--no-xattrs', '--json']);
      expect(plain.code).toBe(0);
      expect(readXattrs(path.join(bare, src, 'shared.txt'))).toEqual([]);
    },
  );

  it.skipIf(!isRoot)(
    '08.4 without root: a read-only file and directory keep their user attributes (set before the mode takes write permission away)',
    () => {
      // The whole round trip as the user nobody, in directories nobody owns.
      const home = openDir('xattr-nobody');
      chownSync(home, NOBODY, NOBODY);
      const src = path.join(home, 'src');
      mkdirSync(path.join(src, 'sealed'), { recursive: true });
      writeFileSync(path.join(src, 'sealed', 'frozen.txt'), 'read only');
      set(path.join(src, 'sealed', 'frozen.txt'), [{ name: 'user.origin', value: b64('kept') }]);
      set(path.join(src, 'sealed'), [{ name: 'user.kind', value: b64('a read-only directory') }]);
      chmodSync(path.join(src, 'sealed', 'frozen.txt'), 0o444);
      for (const p of [src, path.join(src, 'sealed'), path.join(src, 'sealed', 'frozen.txt')])
        chownSync(p, NOBODY, NOBODY);
      chmodSync(path.join(src, 'sealed'), 0o555);
      const asNobody = (args: string[]) =>
        spawnSync(
          'setpriv',
          [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, CLI, ...args, '--json'],
          { encoding: 'utf8', env: { ...process.env, LIFELINE_PASSWORD: PASSWORD, HOME: home } },
        );
      const repo = path.join(home, 'repo');
      expect(asNobody(['init', '--repo', repo]).status).toBe(0);
      expect(asNobody(['backup', '--repo', repo, src]).status).toBe(0);
      const target = path.join(home, 'target');
      const restore = asNobody(['restore', '--repo', repo, 'latest', '--target', target]);
      expect({ code: restore.status, stderr: restore.stderr }).toEqual({ code: 0, stderr: '' });
      expect(readXattrs(path.join(target, src, 'sealed', 'frozen.txt'))).toEqual([
        { name: 'user.origin', value: b64('kept') },
      ]);
      expect(readXattrs(path.join(target, src, 'sealed'))).toEqual([
        { name: 'user.kind', value: b64('a read-only directory') },
      ]);
    },
  );

  it('08.4 user attributes (any bytes) round-trip through a backup and a restore without root, and an unchanged file keeps them in the next snapshot', () => {
    const repo = initRepo();
    const src = path.join(tempDir('xattr-user'), 'data');
    mkdirSync(src);
    const file = path.join(src, 'a.bin');
    writeFileSync(file, 'content');
    set(file, [
      { name: 'user.binary', value: b64(Buffer.from([0, 0xff, 0x80, 0x0a])) },
      { name: 'user.empty', value: '' },
    ]);
    expect(cli(['backup', '--repo', repo, src]).code).toBe(0);
    // Unchanged content; the next backup does not read it but still records its attributes, as they are now.
    set(file, [{ name: 'user.added', value: b64('later') }]);
    const second = cli(['backup', '--repo', repo, '--json', src]);
    expect(second.code).toBe(0);
    const target = tempDir('xattr-user-target');
    expect(cli(['restore', '--repo', repo, 'latest', '--target', target]).code).toBe(0);
    expect(readXattrs(path.join(target, file))).toEqual(readXattrs(file));
    expect(readXattrs(path.join(target, file)).map((x) => x.name)).toEqual(['user.added', 'user.binary', 'user.empty']);
  });

  it('08.4 an attribute the target refuses is named in a warning with why, the rest is restored, and the CLI exits 3', async () => {
    const { repo, location } = await newRepository();
    const { snapshot } = await forgeSnapshot(
      async ({ blob }) => [
        {
          ...forgedFile('note.txt', await blob('hello')),
          xattrs: [
            { name: 'bogus.namespace', value: b64('refused') },
            { name: 'user.kept', value: b64('set') },
          ],
        },
      ],
      { repo },
    );
    const target = tempDir('xattr-refused');
    const r = cli(['restore', '--repo', location, snapshot.id, '--target', target, '--json'], {
      LIFELINE_PASSWORD: PASSWORD,
    });
    expect(r.code).toBe(3);
    const warnings = resultOf(r).warnings as string[];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /note\.txt: restored without an extended attribute, which the target refused: bogus\.namespace \(lsetxattr: Operation not supported\)/,
    );
    expect(readFileSync(path.join(target, 'note.txt'), 'utf8')).toBe('hello');
    expect(readXattrs(path.join(target, 'note.txt'))).toEqual([{ name: 'user.kept', value: b64('set') }]);
  });

  it('08.4 a snapshot’s attributes are checked like its names: a forged list stops the restore before anything is written', async () => {
    const forgeries: [unknown, RegExp][] = [
      ['not a list', /extended attributes that are not a list/],
      [[{ name: '', value: '' }], /extended attribute named ""/],
      [[{ name: 'user.a\u0000b', value: '' }], /extended attribute named/],
      [
        [
          { name: 'user.a', value: '' },
          { name: 'user.a', value: '' },
        ],
        /extended attribute named "user.a"/,
      ],
      [[{ name: 'user.a', value: 'not base64!' }], /extended attribute value that is not base64/],
      [[{ name: 'user.a' }], /extended attribute value that is not base64/],
    ];
    for (const [xattrs, why] of forgeries) {
      const { repo, snapshot } = await forgeSnapshot(async ({ blob, tree }) => {
        const inner = await tree(
          JSON.stringify({ nodes: [{ ...forgedFile('inner.txt', await blob('x'), 1), xattrs }] }),
        );
        return [forgedDir('dir', inner)];
      });
      const target = tempDir('xattr-forged');
      await expect(runRestore(repo, { snapshot, target })).rejects.toThrow(why);
      expect(spawnSync('find', [target, '-mindepth', '1'], { encoding: 'utf8' }).stdout).toBe('');
    }
  });
});
