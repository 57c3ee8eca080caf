// Opens or creates the repository at a location: a local directory, or an S3 bucket (`s3:http(s)://…`).
import type { KdfParams } from './crypto';
import { LocalStorage } from './local-storage';
import { Repository, type InitOptions, type OpenOptions } from './repository';
import { isS3Location, parseS3Location, S3Storage } from './s3-storage';
import type { Storage } from './storage';

export function storageFor(location: string): Storage & { createLayout(): Promise<void> } {
  if (isS3Location(location)) return new S3Storage(parseS3Location(location));
  return new LocalStorage(location);
}

export function openRepository(location: string, passphrase: string, options: OpenOptions = {}): Promise<Repository> {
  return Repository.open(storageFor(location), passphrase, options);
}

export function initRepository(location: string, passphrase: string, options: InitOptions = {}): Promise<Repository> {
  return Repository.init(storageFor(location), passphrase, options);
}

export type { KdfParams };
