// What every command needs: the repository location, the passphrase, cancellation on Ctrl-C.
import { readFileSync } from 'node:fs';

import { defaultCacheDir } from '../../lib/engine/cache-dir';
import { EngineError, openRepository, type Repository } from '../../lib/engine';
import { readCredentialsFile } from '../../lib/engine/repository/s3-credentials-file';
import { Output } from './output';

export interface Context {
  repoPath: string;
  out: Output;
  signal: AbortSignal;
  passphrase(): string;
  newPassphrase(): string;
  /** `cacheMetadata: false` for checks of the repository's health, which read every object as stored. */
  open(options?: { cacheMetadata?: boolean }): Promise<Repository>;
  /** The repository a copy reads from (`--from-repo`, with `--from-password-file` or LIFELINE_FROM_PASSWORD). */
  openFrom(): Promise<Repository>;
}

export interface CommonFlags {
  repo?: string;
  'password-file'?: string;
  'new-password-file'?: string;
  'from-repo'?: string;
  'from-password-file'?: string;
  'from-s3-credentials'?: string;
  'cache-dir'?: string;
  json?: boolean;
}

export function makeContext(flags: CommonFlags, signal: AbortSignal): Context {
  const repoPath = flags.repo ?? process.env.LIFELINE_REPO;
  if (!repoPath) throw new EngineError('invalid-argument', 'no repository: give --repo DIR or set LIFELINE_REPO');
  const passphrase = () => readSecret(flags['password-file'], 'LIFELINE_PASSWORD', '--password-file');
  const cacheDir = cacheDirOf(flags);
  return {
    repoPath,
    out: new Output(flags.json === true),
    signal,
    passphrase,
    newPassphrase: () => readSecret(flags['new-password-file'], 'LIFELINE_NEW_PASSWORD', '--new-password-file'),
    open: (options = {}) => openRepository(repoPath, passphrase(), { cacheDir, ...options }),
    openFrom: () => {
      const from = flags['from-repo'];
      if (!from) throw new EngineError('invalid-argument', 'no repository to copy from: give --from-repo DIR');
      return openRepository(
        from,
        readSecret(flags['from-password-file'], 'LIFELINE_FROM_PASSWORD', '--from-password-file'),
        {
          cacheDir,
          ...(flags['from-s3-credentials'] ? { s3Credentials: readCredentialsFile(flags['from-s3-credentials']) } : {}),
        },
      );
    },
  };
}

/** `--cache-dir`, else the default one; none where there is no home directory (it only saves time). */
function cacheDirOf(flags: CommonFlags): string | null {
  if (flags['cache-dir']) return flags['cache-dir'];
  try {
    return defaultCacheDir();
  } catch {
    return null;
  }
}

function readSecret(file: string | undefined, envName: string, flag: string): string {
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new EngineError(
        'invalid-argument',
        `cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    const secret = text.replace(/\r?\n$/, '');
    if (!secret) throw new EngineError('invalid-argument', `${flag} ${file} is empty`);
    return secret;
  }
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  throw new EngineError('invalid-argument', `no passphrase: set ${envName} or give ${flag}`);
}
