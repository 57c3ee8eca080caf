// Typed errors of the engine: every failure a user can meet has a code and a plain message.

export const ENGINE_ERROR_CODES = [
  'invalid-argument',
  'no-repository',
  'repository-exists',
  'unsupported-format',
  'wrong-password',
  'corrupt',
  'not-found',
  'locked',
  'source-unreadable',
  'database-in-use',
  'disk-full',
  'cancelled',
  'io',
  'quota-exceeded',
] as const;

export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

export class EngineError extends Error {
  readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }
}

export function isEngineError(err: unknown, code?: EngineErrorCode): err is EngineError {
  return err instanceof EngineError && (code === undefined || err.code === code);
}

/** Maps an operating-system error to an EngineError, keeping the cause. */
export function fromSystemError(err: unknown, what: string): EngineError {
  if (err instanceof EngineError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new EngineError('disk-full', `no space left on device while writing ${what}`, { cause: err });
  }
  if (code === 'ENOENT') return new EngineError('not-found', `${what} does not exist`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') {
    return new EngineError('io', `permission denied: ${what}`, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new EngineError('io', `${what}: ${detail}`, { cause: err });
}

/** Aborted by the user, the job was cancelled; aborted with an engine error as the reason (a lost lock), that is
 *  what happened. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw signal.reason instanceof EngineError ? signal.reason : new EngineError('cancelled', 'the job was cancelled');
}
