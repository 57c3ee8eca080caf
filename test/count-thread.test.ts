// 11.6: the count behind a backup's progress totals walks on a thread of its own (dist/count-worker.cjs) while the
// backup walks and reads. It must count what the backup saves: the same excludes, overlapping paths once.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ProgressMeter } from '@/lib/engine/progress';
import { compileExcludes } from '@/lib/engine/sources/exclude';
import { scanSources } from '@/lib/engine/sources/walk';

import { tempDir } from './helpers';
import { waitFor } from './support/wait';

const COUNT_WORKER = path.resolve(__dirname, '..', 'dist', 'count-worker.cjs');

describe('11.6 the count on a thread of its own', () => {
  it('11.6 counts the files and bytes the backup saves: excluded ones left out, overlapping paths once, as the count on the calling thread does', async () => {
    const src = path.join(tempDir('count'), 'src');
    let files = 0;
    let bytes = 0;
    for (let d = 0; d < 12; d++) {
      const dir = path.join(src, `d${d}`, 'inner');
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 25; f++) {
        const size = 100 + d * 25 + f;
        writeFileSync(path.join(dir, `f${f}.txt`), Buffer.alloc(size, 0x61));
        files++;
        bytes += size;
        writeFileSync(path.join(dir, `f${f}.tmp`), 'left out');
      }
    }
    mkdirSync(path.join(src, 'docs'));
    writeFileSync(path.join(src, 'docs', 'left-out.txt'), 'a directory excluded by its path');
    const patterns = ['*.tmp', path.join(src, 'docs')];
    // A path inside another given path is walked with it, once.
    const paths = [src, path.join(src, 'd3')];

    const scan = (countThread?: { script: string; excludePatterns: string[] }) =>
      scanSources(paths, [], compileExcludes(patterns), new ProgressMeter('backup', undefined), undefined, countThread);
    const onThread = await scan({ script: COUNT_WORKER, excludePatterns: patterns });
    const here = await scan();
    for (const s of [onThread, here]) await waitFor('the count to be whole', () => s.totals.done, 30_000);
    expect({ files: onThread.totals.files, bytes: onThread.totals.bytes }).toEqual({ files, bytes });
    expect({ files: here.totals.files, bytes: here.totals.bytes }).toEqual({ files, bytes });
  });
});
