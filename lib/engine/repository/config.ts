// The repository's `config` object: readable without a key so that the format version is checked first,
// and authenticated with the master key once the repository is opened.
import { createHmac, randomBytes } from 'node:crypto';

import { EngineError } from '../errors';
import type { ChunkerParams } from './chunker';
import type { MasterKey } from './crypto';

/** The format this code writes and the newest it reads. */
export const FORMAT_VERSION = 1;

/** Additions to format 1 this code reads and writes (docs/repository-format.md, "Features"). A repository lists
 *  those its data uses; a reader that meets one it does not know refuses the repository rather than misread it. */
export const KNOWN_FEATURES: readonly string[] = [
  // Files carry ctimeNs, and a backup compares it to find files rewritten in place with size and mtime kept.
  'ctime',
  // Names and link targets that are not UTF-8 are stored as their bytes (nameBytes, targetBytes).
  'byte-names',
  // Files, directories and links carry their extended attributes, POSIX ACLs among them (xattrs).
  'xattrs',
];

export interface RepositoryConfig {
  format: number;
  id: string;
  created: string;
  chunker: ChunkerParams;
  compression: 'zstd';
  /** The features the repository's data uses (absent: none), sorted. */
  features?: string[];
  /** HMAC-SHA-256 (id key) over the other fields, so a changed config is caught once the key is known. */
  mac: string;
}

type Unsigned = Omit<RepositoryConfig, 'mac'>;

function macOf(key: MasterKey, config: Unsigned): string {
  const canonical = JSON.stringify([
    config.format,
    config.id,
    config.created,
    config.chunker.min,
    config.chunker.avg,
    config.chunker.max,
    config.compression,
    // Absent or empty, the list leaves the code of a config that predates it unchanged.
    ...(config.features?.length ? [config.features] : []),
  ]);
  return createHmac('sha256', key.id).update(canonical).digest('hex');
}

/** The config with its authentication code (after a change: a new feature). */
export function signConfig(key: MasterKey, config: Unsigned): RepositoryConfig {
  return { ...config, mac: macOf(key, config) };
}

export function createConfig(key: MasterKey, chunker: ChunkerParams): RepositoryConfig {
  return signConfig(key, {
    format: FORMAT_VERSION,
    id: randomBytes(16).toString('hex'),
    created: new Date().toISOString(),
    chunker,
    compression: 'zstd',
    features: [...KNOWN_FEATURES].sort(),
  });
}

/** Parses the config and refuses formats this reader does not know, before any key is tried. */
export function parseConfig(bytes: Buffer, location: string): RepositoryConfig {
  let config: RepositoryConfig;
  try {
    config = JSON.parse(bytes.toString('utf8')) as RepositoryConfig;
  } catch (err) {
    throw new EngineError('corrupt', `the repository config at ${location} is not valid JSON`, { cause: err });
  }
  if (!Number.isInteger(config.format))
    throw new EngineError('corrupt', `the repository config at ${location} has no format version`);
  if (config.format > FORMAT_VERSION) {
    throw new EngineError(
      'unsupported-format',
      `the repository at ${location} uses format ${config.format}, newer than this lifeline reads (${FORMAT_VERSION}); upgrade lifeline to open it`,
    );
  }
  if (
    config.features !== undefined &&
    !(Array.isArray(config.features) && config.features.every((f) => typeof f === 'string'))
  )
    throw new EngineError(
      'corrupt',
      `the repository config at ${location} has a features list that is not a list of names`,
    );
  const unknown = (config.features ?? []).filter((f) => !KNOWN_FEATURES.includes(f));
  if (unknown.length > 0)
    throw new EngineError(
      'unsupported-format',
      `the repository at ${location} uses ${unknown.length === 1 ? 'a feature' : 'features'} this lifeline does not know (${unknown.join(', ')}); upgrade lifeline to open it`,
    );
  return config;
}

export function checkConfigMac(key: MasterKey, config: RepositoryConfig): void {
  const { mac, ...unsigned } = config;
  if (macOf(key, unsigned) !== mac)
    throw new EngineError('corrupt', 'the repository config was altered: its authentication code does not match');
}
