// Opens or creates the repository at a location: a local directory, or an S3 bucket (`s3:http(s)://…`).
import type { KdfParams } from './crypto';
import { LocalStorage } from './local-storage';
import { Repository, type InitOptions, type OpenOptions } from './repository';
import type { S3Keys } from './s3-credentials-file';
import { isS3Location, parseS3Location, S3Storage } from './s3-storage';
import type { Storage } from './storage';

/** `s3Credentials`: for a location in S3, these keys rather than the AWS variables' and files'. */
export function storageFor(location: string, s3Credentials?: S3Keys): Storage & { createLayout(): Promise<void> } {
  if (isS3Location(location))
    return new S3Storage(parseS3Location(location), s3Credentials ? { credentials: s3Credentials } : {});
  return new LocalStorage(location);
}

export function openRepository(
  location: string,
  passphrase: string,
  options: OpenOptions & { s3Credentials?: S3Keys } = {},
): Promise<Repository> {
  const { s3Credentials, ...open } = options;
  return Repository.open(storageFor(location, s3Credentials), passphrase, open);
}

export function initRepository(location: string, passphrase: string, options: InitOptions = {}): Promise<Repository> {
  return Repository.init(storageFor(location), passphrase, options);
}

export type { KdfParams };
