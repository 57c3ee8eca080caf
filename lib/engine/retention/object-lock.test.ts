// 12.4: which version of an object `repair undelete --as-of T` makes current again, when versions and delete
// markers share a timestamp (S3 lists them in two lists; some servers give times to the second).
import { describe, expect, it } from 'vitest';

import type { ObjectVersion } from '../repository/s3-storage';
import { versionAsOf } from './object-lock';

const v = (versionId: string, modifiedMs: number, deleteMarker = false, latest = false): ObjectVersion => ({
  key: 'snapshots/x',
  versionId,
  modifiedMs,
  deleteMarker,
  latest,
  etag: deleteMarker ? null : `"${versionId}"`,
});

describe('12.4 the version as of a time', () => {
  it('12.4 an object written and deleted within the same second is deleted as of that second, whichever list comes first', () => {
    const written = v('v1', 1000);
    const deleted = v('m1', 1000, true, true);
    expect(versionAsOf([written, deleted], 1000)).toBe(deleted);
    expect(versionAsOf([deleted, written], 1000)).toBe(deleted);
  });

  it('12.4 the newest version at or before the time counts, a later one does not, and before the first there is none', () => {
    const a = v('a', 1000);
    const b = v('b', 2000);
    const c = v('c', 3000, false, true);
    expect(versionAsOf([c, a, b], 2500)).toBe(b);
    expect(versionAsOf([c, a, b], 3000)).toBe(c);
    expect(versionAsOf([c, a, b], 999)).toBeUndefined();
  });
});
