// 08.4: extended attributes through the addon, on real files: read back as set, links not followed, and what a
// file system refuses reported, not dropped.
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { decodeBytes } from './byte-names';
import { readXattrs, writeXattrs, xattrsUnavailable } from './xattrs';

describe('08.4 extended attributes', () => {
  it('08.4 attributes set on a file (any bytes in its name) read back sorted; a link is not followed; an unknown namespace is refused, with why', () => {
    expect(xattrsUnavailable()).toBeNull();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-xattrs-'));
    const file = decodeBytes(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9])]));
    writeFileSync(Buffer.from(`${dir}/caf\xe9`, 'latin1'), 'x');
    const wanted = [
      { name: 'user.b', value: Buffer.from([0, 1, 2, 255]).toString('base64') },
      { name: 'user.a', value: Buffer.from('first').toString('base64') },
    ];
    expect(writeXattrs(file, wanted)).toEqual([]);
    expect(readXattrs(file)).toEqual([...wanted].sort((a, b) => a.name.localeCompare(b.name)));
    symlinkSync(`${dir}/caf\xe9`, path.join(dir, 'link'));
    expect(readXattrs(path.join(dir, 'link')).filter((x) => x.name.startsWith('user.'))).toEqual([]);
    expect(writeXattrs(file, [{ name: 'bogus.name', value: '' }])).toEqual([
      { name: 'bogus.name', why: expect.stringMatching(/lsetxattr: Operation not supported/) },
    ]);
  });
});
