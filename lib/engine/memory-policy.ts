// How the process's C heap treats the engine's large, short-lived buffers (read buffers, chunks, sealed blobs,
// packs of 16 MiB). glibc serves allocations above its mmap threshold with their own mappings, returned to the
// system when freed; but each time such a buffer is freed it raises the threshold to that buffer's size (up to
// 32 MiB). After the first pack is freed every chunk comes from heap arenas, one per thread, which fragment and
// rarely shrink: a backup's resident memory then grows with the data it has moved, not with what it holds. A fixed
// threshold turns that adjustment off. Applied when a repository is opened. Measured by test/memory-bound.test.ts
// and `npm run bench` (11.1, 11.3).
import { nativeAddon } from './native-addon';

/** Allocations of this size and above get mappings of their own. */
const MMAP_THRESHOLD_BYTES = 128 * 1024;

let applied = false;

/** Fixes the C heap's mmap threshold, once per process; without the addon (or glibc) it changes nothing. */
export function boundHeapRetention(): void {
  if (applied) return;
  applied = true;
  const addon = nativeAddon();
  if (typeof addon !== 'string') addon.setMmapThreshold(MMAP_THRESHOLD_BYTES);
}
