// The repository the control plane backs up into. On first start an embedded one is created in the data
// directory with a generated passphrase, kept in a file only the server's user can read (0600).
import 'server-only';

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { dataDir } from '../config';
import { runCli } from './run-cli';
import { readCredentialsFile } from '../engine/repository/s3-credentials-file';
import { isS3Location, parseS3Location, S3Storage } from '../engine/repository/s3-storage';
import { isRetaining, OBJECT_KINDS } from '../engine/repository/storage';
import { controlStorage, removeS3Credentials, type S3Keys, writeS3Credentials } from './s3-credentials';
import { deleteSetting, getSetting, setSetting } from './settings';

export interface RepositoryInfo {
  location: string;
  passwordFile: string;
}

export function repositoryInfo(): RepositoryInfo | null {
  const location = getSetting('repository.location');
  const passwordFile = getSetting('repository.passwordFile');
  return location && passwordFile ? { location, passwordFile } : null;
}

export async function ensureRepository(): Promise<RepositoryInfo> {
  const existing = repositoryInfo();
  if (existing) return existing;
  const secrets = path.join(dataDir(), 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  chmodSync(secrets, 0o700);
  const passwordFile = path.join(secrets, 'repository.passphrase');
  const location = path.join(dataDir(), 'repository');
  if (!existsSync(passwordFile)) {
    // 24 random bytes, as words a person can copy: the recovery kit shows it once.
    writeFileSync(passwordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
  if (!existsSync(path.join(location, 'config'))) {
    const { code, error } = await runCli(['init', '--repo', location], passwordFile).done;
    if (code !== 0)
      throw new Error(`could not create the repository at ${location}: ${String(error?.message ?? code)}`);
  }
  setSetting('repository.location', location);
  setSetting('repository.passwordFile', passwordFile);
  return { location, passwordFile };
}

export function recoveryKitAcknowledged(): boolean {
  return getSetting('recoveryKit.acknowledged') === 'yes';
}

/** Switches the control plane to an existing repository, after checking that the passphrase opens it; for one in
 *  S3, with the keys that reach its bucket (kept in a 0600 file, s3-credentials.ts). */
export async function attachRepository(
  location: string,
  passphrase: string,
  s3?: S3Keys,
): Promise<{ ok: true } | { ok: false; field: 'location' | 'passphrase' | 'secretAccessKey' | null; message: string }> {
  const secrets = path.join(dataDir(), 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(secrets, `repository-${randomBytes(4).toString('hex')}.passphrase`);
  writeFileSync(passwordFile, passphrase, { mode: 0o600 });
  const credentials = s3 ? writeS3Credentials(s3) : null;
  const { code, error } = await runCli(['snapshots', '--repo', location], passwordFile, undefined, credentials).done;
  if (code !== 0) {
    rmSync(passwordFile, { force: true });
    if (credentials) removeS3Credentials(credentials);
    const message = String(error?.message ?? `exit code ${code}`);
    const field =
      code === 10
        ? 'location'
        : code === 12 && error?.code === 'wrong-password' && /credentials/.test(message)
          ? 'secretAccessKey'
          : code === 12
            ? 'passphrase'
            : null;
    return { ok: false, field, message };
  }
  setSetting('repository.location', location);
  setSetting('repository.passwordFile', passwordFile);
  if (credentials) setSetting('repository.s3Credentials', credentials);
  else deleteSetting('repository.s3Credentials');
  // Whoever attaches a repository holds its passphrase already.
  setSetting('recoveryKit.acknowledged', 'yes');
  return { ok: true };
}

export interface RepositoryPlace {
  /** Where it is, in words: a directory on this machine, or a bucket at an S3 endpoint. */
  place: string;
  /** Whether losing this machine's disk loses it too. */
  onThisMachine: boolean;
  /** Bytes stored (every object of the repository, not those of the nodes' and groups' below it), or null if the
   *  storage could not be listed. */
  bytes: number | null;
  objectLock: { mode: string; days: number } | null;
  error?: string;
}

const placeMemo = new Map<string, { at: number; value: Promise<RepositoryPlace> }>();

/** Where a repository is and how much it holds; listed at most once a minute. `s3Credentials`: the keys file of a
 *  repository for copies (by default, the control plane's repository's). */
export function repositoryPlace(location: string, s3Credentials?: string | null): Promise<RepositoryPlace> {
  const memo = placeMemo.get(location);
  if (memo && Date.now() - memo.at < 60_000) return memo.value;
  const value = measurePlace(location, s3Credentials);
  placeMemo.set(location, { at: Date.now(), value });
  return value;
}

async function measurePlace(location: string, s3Credentials?: string | null): Promise<RepositoryPlace> {
  const s3 = isS3Location(location) ? parseS3Location(location) : null;
  const place = s3
    ? `S3 bucket ${s3.bucket}${s3.prefix ? ` (under ${s3.prefix.slice(0, -1)})` : ''} at ${s3.endpoint}`
    : `a directory on this machine: ${location}`;
  try {
    const storage =
      s3 && s3Credentials
        ? new S3Storage(s3, { credentials: readCredentialsFile(s3Credentials) })
        : controlStorage(location);
    let bytes = 0;
    for (const kind of OBJECT_KINDS) for (const o of await storage.list(kind)) bytes += o.size;
    const found = isRetaining(storage) ? await storage.objectLock() : null;
    const objectLock = found === 'unreadable' ? null : found;
    return { place, onThisMachine: !s3, bytes, objectLock };
  } catch (err) {
    return { place, onThisMachine: !s3, bytes: null, objectLock: null, error: (err as Error).message };
  }
}
