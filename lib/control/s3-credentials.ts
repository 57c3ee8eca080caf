// S3 credentials for the control plane's repository: kept as an AWS shared-credentials file of mode 0600 in the
// data directory's secrets (never in the database, the environment or a page), handed to CLI children by its path
// (AWS_SHARED_CREDENTIALS_FILE: the SDK reads it) and read here for the storage the server itself opens.
import 'server-only';

import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { dataDir } from '../config';
import { storageFor } from '../engine/repository/open-repository';
import { readCredentialsFile, type S3Keys } from '../engine/repository/s3-credentials-file';

export type { S3Keys };
import { isS3Location, parseS3Location, S3Storage } from '../engine/repository/s3-storage';
import type { Storage } from '../engine/repository/storage';
import { getSetting } from './settings';

export function writeS3Credentials(keys: S3Keys): string {
  const secrets = path.join(dataDir(), 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const file = path.join(secrets, `s3-${randomBytes(4).toString('hex')}.credentials`);
  writeFileSync(
    file,
    `[default]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  return file;
}

export function removeS3Credentials(file: string): void {
  rmSync(file, { force: true });
}

/** What a CLI child needs to reach the repository's bucket with these credentials (none for a directory). */
export function s3Env(file: string | null): Record<string, string> {
  // AWS_CONFIG_FILE is pointed away from the server user's own ~/.aws/config, so that no other profile mixes in.
  return file ? { AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'default', AWS_CONFIG_FILE: '/dev/null' } : {};
}

/** The credentials file of the repository in use, if it is in S3. */
export function repositoryCredentialsFile(): string | null {
  return getSetting('repository.s3Credentials') ?? null;
}

/** Storage for a location under the control plane's repository (its own, or a node's or group's below it), with
 *  the repository's S3 credentials when it is in S3. */
export function controlStorage(location: string): Storage {
  const file = repositoryCredentialsFile();
  if (!isS3Location(location) || !file) return storageFor(location);
  // One client (and its connections) per location and keys, not one per request of the storage API.
  const key = `${file}\n${location}`;
  let storage = s3Storages.get(key);
  if (!storage) {
    storage = new S3Storage(parseS3Location(location), { credentials: readCredentialsFile(file) });
    s3Storages.set(key, storage);
  }
  return storage;
}

const s3Storages = new Map<string, S3Storage>();
