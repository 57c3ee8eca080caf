// An AWS shared-credentials file (`[default]` with aws_access_key_id and aws_secret_access_key), as the dashboard
// keeps one per S3 repository (mode 0600). A copy between two buckets with different keys reads the source's keys
// from such a file (`copy --from-s3-credentials FILE`); the destination's come from the usual AWS variables.
import { readFileSync } from 'node:fs';

import { EngineError, fromSystemError } from '../errors';

export interface S3Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The keys of the file's `[default]` profile (or of its only section); a clear error if either is missing. */
export function readCredentialsFile(file: string): S3Keys {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fromSystemError(err, `S3 credentials file ${file}`);
  }
  const sections = text.split(/^\s*\[([^\]\n]+)\]\s*$/m);
  // [before, name1, body1, name2, body2, …]
  const named = new Map<string, string>();
  for (let i = 1; i + 1 < sections.length; i += 2) named.set(sections[i].trim(), sections[i + 1]);
  const body = named.get('default') ?? (named.size === 1 ? [...named.values()][0] : sections[0]);
  const value = (name: string) => new RegExp(`^\\s*${name}\\s*=\\s*(\\S+)\\s*$`, 'm').exec(body)?.[1] ?? '';
  const keys = { accessKeyId: value('aws_access_key_id'), secretAccessKey: value('aws_secret_access_key') };
  if (!keys.accessKeyId || !keys.secretAccessKey)
    throw new EngineError(
      'invalid-argument',
      `S3 credentials file ${file} has no aws_access_key_id and aws_secret_access_key under [default]`,
    );
  return keys;
}
