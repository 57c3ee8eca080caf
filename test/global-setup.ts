// Integration tests run the real CLI: make sure dist/ holds the current build. The S3 server the S3 tests share
// (test/support/radosgw.ts) is started by the first of them and stopped here when the run ends, as is one a
// run that was killed left behind.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

import { stopRadosgw } from '../scripts/radosgw.mjs';
import { RADOSGW_DIR } from './support/radosgw';

function stopSharedS3(): void {
  stopRadosgw(RADOSGW_DIR);
  rmSync(`${RADOSGW_DIR}.claim`, { recursive: true, force: true });
  rmSync(`${RADOSGW_DIR}.failed`, { force: true });
}

export default function setup(): () => void {
  execFileSync(process.execPath, ['scripts/build-engine.mjs'], { stdio: 'inherit' });
  stopSharedS3();
  return stopSharedS3;
}
