// A throw-away radosgw for one spec file, started as a command (scripts/radosgw.mjs, which Playwright's loader
// cannot import), which writes what it started into its directory; stopped after the file's last test.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { test } from '@playwright/test';

import type { RadosgwServer } from '../../scripts/radosgw.mjs';

/** Registers the start and stop; the server's address and keys, once started. */
export function radosgwForSpec(name: string): () => RadosgwServer {
  const dir = path.resolve('test-results', `radosgw-${name}`);
  let server: RadosgwServer | undefined;
  test.beforeAll(() => {
    execFileSync(process.execPath, ['scripts/radosgw.mjs', 'start', dir], { stdio: 'ignore', timeout: 170_000 });
    server = JSON.parse(readFileSync(path.join(dir, 'server.json'), 'utf8')) as RadosgwServer;
  });
  test.afterAll(() => {
    execFileSync(process.execPath, ['scripts/radosgw.mjs', 'stop', dir], { stdio: 'ignore' });
  });
  return () => {
    if (!server) throw new Error('radosgw has not started');
    return server;
  };
}
