import { describe, expect, it } from 'vitest';

import type { Job } from '../db/schema';
import { jobForRole } from './job-view';

const restore: Job = {
  id: 1,
  kind: 'restore',
  sourceId: 2,
  status: 'running',
  requestedBy: 'ops',
  createdAt: 0,
  startedAt: 1,
  endedAt: null,
  filesDone: 3,
  filesTotal: 9,
  bytesDone: 30,
  bytesTotal: 90,
  newBytes: null,
  snapshotId: null,
  error: null,
  params: JSON.stringify({ snapshot: 'ab', target: '/srv/restore', include: ['/srv/secret'], inPlace: false }),
};

describe('what a role sees of a job', () => {
  it('hides a restore target and its paths from viewers, keeps its progress', () => {
    expect(jobForRole(restore, 'viewer')).toEqual({ ...restore, params: null });
  });

  it('shows everything to those who may restore', () => {
    expect(jobForRole(restore, 'operator')).toBe(restore);
    expect(jobForRole(restore, 'admin')).toBe(restore);
  });
});
