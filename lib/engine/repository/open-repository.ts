// Opens or creates the repository at a location; today a local directory, later S3 and remote servers.
import type { KdfParams } from './crypto';
import { LocalStorage } from './local-storage';
import { Repository, type InitOptions, type OpenOptions } from './repository';

export function storageFor(location: string): LocalStorage {
  return new LocalStorage(location);
}

export function openRepository(location: string, passphrase: string, options: OpenOptions = {}): Promise<Repository> {
  return Repository.open(storageFor(location), passphrase, options);
}

export function initRepository(location: string, passphrase: string, options: InitOptions = {}): Promise<Repository> {
  return Repository.init(storageFor(location), passphrase, options);
}

export type { KdfParams };
