// Exclude patterns, as restic reads them: a pattern without a slash matches a name anywhere ("*.tmp",
// "node_modules"); one with a slash matches the absolute path ("/srv/app/cache/**"). An excluded
// directory is skipped whole.
import path from 'node:path';

import picomatch from 'picomatch';

import { EngineError } from '../errors';

export type ExcludeMatcher = (absolutePath: string) => boolean;

export function compileExcludes(patterns: readonly string[]): ExcludeMatcher {
  const matchers = patterns.map((pattern) => {
    if (pattern.trim() === '') throw new EngineError('invalid-argument', 'an exclude pattern must not be empty');
    const byName = !pattern.includes('/');
    const match = picomatch(byName ? pattern : path.resolve(pattern), { dot: true });
    return byName ? (p: string) => match(path.basename(p)) : match;
  });
  return (absolutePath) => matchers.some((m) => m(absolutePath));
}
