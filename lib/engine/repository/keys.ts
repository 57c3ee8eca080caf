// Key files: the master key wrapped by a key derived from a passphrase. Several may open one repository;
// changing a passphrase writes a new key file and removes the old one, and never touches data.
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';

import { EngineError } from '../errors';
import { deriveKey, open, seal, newKeyKdf, type KdfParams, type MasterKey } from './crypto';
import type { Storage } from './storage';

const KEY_CONTEXT = 'lifeline key';

export interface KeyFile {
  created: string;
  host: string;
  username: string;
  kdf: { name: 'scrypt'; salt: string } & KdfParams;
  /** The sealed master key, base64. */
  data: string;
}

export interface KeyInfo {
  id: string;
  created: string;
  host: string;
  username: string;
}

export async function writeKeyFile(
  storage: Storage,
  master: MasterKey,
  passphrase: string,
  kdf: KdfParams = newKeyKdf(),
): Promise<string> {
  if (passphrase.length === 0) throw new EngineError('invalid-argument', 'the passphrase must not be empty');
  const salt = randomBytes(32);
  const wrapping = await deriveKey(passphrase, salt, kdf);
  const secret = JSON.stringify({
    encryption: master.encryption.toString('base64'),
    id: master.id.toString('base64'),
    chunker: master.chunker.toString('base64'),
  });
  const file: KeyFile = {
    created: new Date().toISOString(),
    host: os.hostname(),
    username: safeUsername(),
    kdf: { name: 'scrypt', salt: salt.toString('base64'), ...kdf },
    data: seal(wrapping, Buffer.from(secret), KEY_CONTEXT).toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(file, null, 2));
  const id = createHash('sha256').update(bytes).digest('hex');
  await storage.put(`keys/${id}`, bytes, { exclusive: true });
  return id;
}

/** Tries the passphrase on the key files, `hint` first (key-hint.ts); returns the master key, the id of the key
 *  file it opened and how many were tried (each costs one key derivation). */
export async function openWithPassphrase(
  storage: Storage,
  passphrase: string,
  hint: string | null = null,
): Promise<{ master: MasterKey; keyId: string; tried: number }> {
  const listed = (await storage.list('keys')).map((k) => k.name);
  if (listed.length === 0) throw new EngineError('corrupt', `the repository at ${storage.location} has no key files`);
  const order = hint && listed.includes(hint) ? [hint, ...listed.filter((n) => n !== hint)] : listed;
  let tried = 0;
  for (const name of order) {
    tried++;
    const file = await readKeyFile(storage, name);
    const wrapping = await deriveKey(passphrase, Buffer.from(file.kdf.salt, 'base64'), file.kdf);
    let secret: Buffer;
    try {
      secret = open(wrapping, Buffer.from(file.data, 'base64'), KEY_CONTEXT);
    } catch {
      continue;
    }
    const parsed = JSON.parse(secret.toString('utf8')) as Record<keyof MasterKey, string>;
    return {
      keyId: name,
      tried,
      master: {
        encryption: Buffer.from(parsed.encryption, 'base64'),
        id: Buffer.from(parsed.id, 'base64'),
        chunker: Buffer.from(parsed.chunker, 'base64'),
      },
    };
  }
  throw new EngineError('wrong-password', 'wrong passphrase: no key of this repository opens with it');
}

export async function listKeys(storage: Storage): Promise<KeyInfo[]> {
  const out: KeyInfo[] = [];
  for (const { name } of await storage.list('keys')) {
    const f = await readKeyFile(storage, name);
    out.push({ id: name, created: f.created, host: f.host, username: f.username });
  }
  return out.sort((a, b) => a.created.localeCompare(b.created));
}

async function readKeyFile(storage: Storage, id: string): Promise<KeyFile> {
  const bytes = await storage.get(`keys/${id}`);
  if (createHash('sha256').update(bytes).digest('hex') !== id)
    throw new EngineError('corrupt', `key file ${id.slice(0, 12)} does not match its name`);
  try {
    const file = JSON.parse(bytes.toString('utf8')) as KeyFile;
    if (file.kdf?.name !== 'scrypt' || typeof file.data !== 'string') throw new Error('unknown key file layout');
    return file;
  } catch (err) {
    throw new EngineError('corrupt', `key file ${id.slice(0, 12)} is not readable`, { cause: err });
  }
}

function safeUsername(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Resolves a key id or unique prefix. */
export async function resolveKeyId(storage: Storage, ref: string): Promise<string> {
  const matches = (await storage.list('keys')).map((k) => k.name).filter((id) => id.startsWith(ref));
  if (!/^[0-9a-f]{4,64}$/.test(ref) || matches.length === 0)
    throw new EngineError('not-found', `no key with id ${ref}`);
  if (matches.length > 1)
    throw new EngineError('invalid-argument', `key id prefix ${ref} is ambiguous: give more digits`);
  return matches[0];
}

/** Removes a key file; the one in use and the last one are refused, so nobody locks themselves out. */
export async function removeKey(storage: Storage, inUse: string, ref: string): Promise<string> {
  const id = await resolveKeyId(storage, ref);
  if (id === inUse)
    throw new EngineError(
      'invalid-argument',
      'refusing to remove the key this passphrase opened: use key passwd to change it',
    );
  if ((await storage.list('keys')).length <= 1)
    throw new EngineError('invalid-argument', 'refusing to remove the last key of the repository');
  await storage.delete(`keys/${id}`);
  return id;
}
