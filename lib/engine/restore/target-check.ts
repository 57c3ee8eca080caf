// What a restore's target really is, judged on its real path and not on its text: `/proc/self/root`,
// `/proc/thread-self/root`, a link to `/` or `/srv/..` all name `/`, and a restore "elsewhere" into one of them is
// a restore in place. A restore by someone who may not overwrite goes only into a directory that does not exist
// yet or is empty.
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

import { decodeBytes, displayPath, encodeBytes } from '../byte-names';
import { EngineError } from '../errors';

export type TargetState = 'absent' | 'empty' | 'occupied' | 'root';

export interface TargetInspection {
  /** The target with every link, `.` and `..` resolved, as far down as it exists; the rest appended. */
  real: string;
  state: TargetState;
}

/** What a restore may write into: `empty` (a directory that does not exist or is empty), or `elsewhere` (anything
 *  but `/` itself, once resolved). */
export type TargetRule = 'empty' | 'elsewhere';

export function inspectTarget(target: string): TargetInspection {
  const missing: string[] = [];
  let at = path.resolve(target);
  let real: string | null = null;
  while (real === null) {
    try {
      real = decodeBytes(realpathSync(encodeBytes(at), { encoding: 'buffer' }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A link that leads nowhere is not a place to create the target at: it would be created where it points.
      if (lstatSync(encodeBytes(at), { throwIfNoEntry: false })?.isSymbolicLink())
        throw new EngineError(
          'invalid-argument',
          `the restore target ${displayPath(target)} goes through ${displayPath(at)}, a symbolic link to nothing: give a directory`,
        );
      missing.unshift(path.basename(at));
      at = path.dirname(at);
    }
  }
  if (missing.length > 0) return { real: path.join(real, ...missing), state: 'absent' };
  const found = statSync(encodeBytes(real));
  const root = statSync('/');
  // A bind mount of / (a container's /host) is / too, under another name.
  if (real === '/' || (found.dev === root.dev && found.ino === root.ino)) return { real, state: 'root' };
  if (!found.isDirectory())
    throw new EngineError('invalid-argument', `the restore target ${displayPath(target)} is not a directory`);
  return { real, state: readdirSync(encodeBytes(real)).length === 0 ? 'empty' : 'occupied' };
}

/** Refuses a target the rule does not allow, saying why; otherwise returns its real path, which the restore then
 *  writes into (a link swapped in later does not move it). */
export function checkTarget(target: string, rule: TargetRule): TargetInspection {
  const found = inspectTarget(target);
  if (found.state === 'root')
    throw new EngineError(
      'invalid-argument',
      `the restore target ${displayPath(target)} is / once resolved${found.real === '/' ? '' : ` (${displayPath(found.real)} is the same directory as /)`}: that is a restore in place, not one elsewhere`,
    );
  if (rule === 'empty' && found.state === 'occupied')
    throw new EngineError(
      'invalid-argument',
      `the restore target ${displayPath(target)}${found.real === path.resolve(target) ? '' : ` (${displayPath(found.real)})`} is not empty: a restore elsewhere goes into a directory that does not exist or is empty, unless an administrator confirms overwriting`,
    );
  return found;
}
