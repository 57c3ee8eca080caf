// The throw-away S3 server (scripts/radosgw.mjs) that the S3 tests share: the first test file to ask starts it,
// the others wait for it; test/global-setup.ts stops it when the run ends. Only runs that include an S3 test pay
// for starting it (about 15 s).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { type RadosgwServer as S3Server, startRadosgw } from '../../scripts/radosgw.mjs';
import { waitFor } from './wait';

export type { S3Server };

export const RADOSGW_DIR = path.resolve(__dirname, '..', '..', 'test-results', 'radosgw');
const CLAIM = `${RADOSGW_DIR}.claim`;
const FAILED = `${RADOSGW_DIR}.failed`;
const SERVER = path.join(RADOSGW_DIR, 'server.json');
/** Installing the packages (as root, on a fresh machine) and starting the three daemons. */
const START_TIMEOUT_MS = 240_000;

let server: Promise<S3Server> | undefined;

export function radosgw(): Promise<S3Server> {
  server ??= start();
  return server;
}

async function start(): Promise<S3Server> {
  let claimed = false;
  try {
    mkdirSync(CLAIM);
    claimed = true;
  } catch {
    // Another test file is starting it.
  }
  if (claimed) {
    try {
      return await startRadosgw(RADOSGW_DIR);
    } catch (err) {
      writeFileSync(FAILED, (err as Error).message);
      throw err;
    }
  }
  await waitFor(
    'the S3 server another test file is starting',
    () => existsSync(SERVER) || existsSync(FAILED),
    START_TIMEOUT_MS,
  );
  if (existsSync(FAILED)) throw new Error(readFileSync(FAILED, 'utf8'));
  return JSON.parse(readFileSync(SERVER, 'utf8')) as S3Server;
}

/** The environment a CLI child needs to reach the server. */
export function s3Env(s: S3Server): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: s.accessKeyId, AWS_SECRET_ACCESS_KEY: s.secretAccessKey, AWS_REGION: s.region };
}
