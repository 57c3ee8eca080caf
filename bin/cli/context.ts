// What every command needs: the repository location, the passphrase, cancellation on Ctrl-C.
import { readFileSync } from 'node:fs';

import { EngineError, openRepository, type Repository } from '../../lib/engine';
import { Output } from './output';

export interface Context {
  repoPath: string;
  out: Output;
  signal: AbortSignal;
  passphrase(): string;
  newPassphrase(): string;
  open(): Promise<Repository>;
  /** The repository a copy reads from (`--from-repo`, with `--from-password-file` or LIFELINE_FROM_PASSWORD). */
  openFrom(): Promise<Repository>;
}

export interface CommonFlags {
  repo?: string;
  'password-file'?: string;
  'new-password-file'?: string;
  'from-repo'?: string;
  'from-password-file'?: string;
  json?: boolean;
}

export function makeContext(flags: CommonFlags, signal: AbortSignal): Context {
  const repoPath = flags.repo ?? process.env.LIFELINE_REPO;
  if (!repoPath) throw new EngineError('invalid-argument', 'no repository: give --repo DIR or set LIFELINE_REPO');
  const passphrase = () => readSecret(flags['password-file'], 'LIFELINE_PASSWORD', '--password-file');
  return {
    repoPath,
    out: new Output(flags.json === true),
    signal,
    passphrase,
    newPassphrase: () => readSecret(flags['new-password-file'], 'LIFELINE_NEW_PASSWORD', '--new-password-file'),
    open: () => openRepository(repoPath, passphrase()),
    openFrom: () => {
      const from = flags['from-repo'];
      if (!from) throw new EngineError('invalid-argument', 'no repository to copy from: give --from-repo DIR');
      return openRepository(
        from,
        readSecret(flags['from-password-file'], 'LIFELINE_FROM_PASSWORD', '--from-password-file'),
      );
    },
  };
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
