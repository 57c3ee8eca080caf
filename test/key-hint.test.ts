// 11.5: opening a repository derives one key (scrypt), not one per key file: the key that opened it last on this
// machine is tried first. A hint is only an order; every key file is still checked by its own authenticated
// encryption, so a wrong or forged hint costs one more derivation and never opens with a wrong key.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { writeKeyFile } from '../lib/engine/repository/keys';
import { readKeyHint } from '../lib/engine/repository/key-hint';
import { LocalStorage } from '../lib/engine/repository/local-storage';
import { openRepository } from '../lib/engine/repository/open-repository';
import { cli, newRepository, PASSWORD, TEST_KDF, tempDir } from './helpers';

/** A repository with six keys; the passphrase of the one listed last, which an open without a hint tries last. */
async function sixKeys() {
  const { repo, location } = await newRepository();
  const passphrases = new Map<string, string>([[repo.keyId, PASSWORD]]);
  for (let i = 1; i < 6; i++) {
    const pass = `another passphrase ${i}`;
    passphrases.set(await writeKeyFile(repo.storage, repo.key, pass, TEST_KDF), pass);
  }
  const listed = (await new LocalStorage(location).list('keys')).map((k) => k.name);
  const last = listed.at(-1)!;
  return { repo, location, listed, last, passphrase: passphrases.get(last)!, passphrases };
}

const hintFile = (cacheDir: string, repositoryId: string) =>
  path.join(cacheDir, 'repositories', repositoryId, 'key-hint');

describe('11.5 a key hint', () => {
  it('11.5 the key that opened a repository last is tried first: one key derivation, not one per key', async () => {
    const { location, last, passphrase, repo } = await sixKeys();
    expect((await openRepository(location, passphrase)).keysTried).toBe(6);
    const cacheDir = tempDir('cache');
    const first = await openRepository(location, passphrase, { cacheDir });
    expect(first.keysTried).toBe(6);
    expect(readFileSync(hintFile(cacheDir, repo.config.id), 'utf8').trim()).toBe(last);
    const second = await openRepository(location, passphrase, { cacheDir });
    expect(second.keysTried).toBe(1);
    expect(second.keyId).toBe(last);
    expect(second.key.encryption.equals(repo.key.encryption)).toBe(true);
  });

  it('11.5 a wrong or forged hint costs one more derivation and never opens with a wrong key', async () => {
    const { location, listed, passphrases, repo } = await sixKeys();
    // The key listed first: without a hint, one derivation.
    const first = listed[0];
    const passphrase = passphrases.get(first)!;
    expect((await openRepository(location, passphrase)).keysTried).toBe(1);
    const cacheDir = tempDir('cache');
    const file = hintFile(cacheDir, repo.config.id);
    mkdirSync(path.dirname(file), { recursive: true });
    // Another key of this repository: tried first, it refuses the passphrase; then the usual order.
    writeFileSync(file, listed[4]);
    const wrong = await openRepository(location, passphrase, { cacheDir });
    expect(wrong.keysTried).toBe(2);
    expect(wrong.keyId).toBe(first);
    expect(wrong.key.encryption.equals(repo.key.encryption)).toBe(true);
    // Put right for the next open.
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    // A key id the repository does not have, or no key id at all: the usual order, nothing extra.
    for (const forged of ['f'.repeat(64), '../../../../etc/passwd', '']) {
      writeFileSync(file, forged);
      const opened = await openRepository(location, passphrase, { cacheDir });
      expect(opened.keysTried).toBe(1);
      expect(opened.keyId).toBe(first);
    }
    // A wrong passphrase opens nothing, hint or not.
    writeFileSync(file, first);
    await expect(openRepository(location, 'not a passphrase of it', { cacheDir })).rejects.toThrow(/wrong passphrase/);
  });

  it('11.5 a repository id that is not one names no file in the cache', () => {
    expect(readKeyHint(tempDir('cache'), '../../../etc')).toBeNull();
  });

  it('11.5 the CLI keeps its hints in --cache-dir', async () => {
    const { location, last, passphrase, repo } = await sixKeys();
    const cacheDir = tempDir('cache');
    const r = cli(['snapshots', '--repo', location, '--cache-dir', cacheDir, '--json'], {
      LIFELINE_PASSWORD: passphrase,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(hintFile(cacheDir, repo.config.id))).toBe(true);
    expect(readFileSync(hintFile(cacheDir, repo.config.id), 'utf8').trim()).toBe(last);
  });
});

describe('11.6 the cost of a key', () => {
  it('11.6 a key made now takes 64 MiB of scrypt memory (N=2^16, r=8, p=2), and one made with the earlier 128 MiB costs still opens', async () => {
    const location = path.join(tempDir('kdf'), 'repo');
    // Without the tests' cheap keys: the cost a user's key gets.
    expect(cli(['init', '--repo', location], { LIFELINE_TEST_KDF: undefined }).code).toBe(0);
    const storage = new LocalStorage(location);
    const [key] = await storage.list('keys');
    const kdf = JSON.parse((await storage.get(`keys/${key.name}`)).toString()).kdf;
    expect({ N: kdf.N, r: kdf.r, p: kdf.p }).toEqual({ N: 2 ** 16, r: 8, p: 2 });

    const repo = await openRepository(location, PASSWORD);
    await writeKeyFile(storage, repo.key, 'an older passphrase', { N: 2 ** 17, r: 8, p: 1 });
    const older = await openRepository(location, 'an older passphrase');
    expect(older.key.encryption.equals(repo.key.encryption)).toBe(true);
  });
});
