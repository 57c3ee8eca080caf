// Lifeline's small native addon (native/*.c), which `npm ci` builds with node-gyp: extended attributes, which Node
// has no calls for (xattrs.ts), and the C library's heap policy (memory-policy.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface NativeAddon {
  list(path: Buffer): Buffer;
  get(path: Buffer, name: Buffer): Buffer;
  set(path: Buffer, name: Buffer, value: Buffer): void;
  /** Sets glibc's mmap threshold (mallopt M_MMAP_THRESHOLD); false where the C library is not glibc. */
  setMmapThreshold(bytes: number): boolean;
}

const ADDON = path.join('build', 'Release', 'lifeline_native.node');
let loaded: { addon: NativeAddon } | { missing: string } | null = null;

/** The addon, found above this file (lib/engine in the sources, dist/ in the CLI's bundle), or why there is none.
 *  Loaded with process.dlopen: no bundler follows it. */
export function nativeAddon(): NativeAddon | string {
  if (!loaded) {
    let dir = __dirname;
    let file: string | null = null;
    for (let i = 0; i < 5 && !file; i++, dir = path.dirname(dir))
      if (existsSync(path.join(dir, ADDON))) file = path.join(dir, ADDON);
    if (!file)
      loaded = { missing: `the native addon (${ADDON}) was not built: run npm ci where a C compiler is installed` };
    else {
      const module = { exports: {} as NativeAddon };
      try {
        process.dlopen(module, file);
        loaded = { addon: module.exports };
      } catch (err) {
        loaded = { missing: `the native addon cannot be loaded: ${(err as Error).message}` };
      }
    }
  }
  return 'addon' in loaded ? loaded.addon : loaded.missing;
}
