// Extended attributes of files, directories and links (POSIX ACLs among them: system.posix_acl_access and
// system.posix_acl_default), through the small addon in native/xattr.c (native-addon.ts). Links
// are never followed. Paths are byte-names.ts strings.
import { decodeBytes, encodeBytes } from './byte-names';
import { nativeAddon as addon } from './native-addon';

export interface Xattr {
  name: string;
  /** The value, base64. */
  value: string;
}

/** Why extended attributes cannot be read or written on this machine, or null if they can. */
export function xattrsUnavailable(): string | null {
  const a = addon();
  return typeof a === 'string' ? a : null;
}

/** The entry's attributes sorted by name, or [] where the file system has none. Throws what cannot be read. */
export function readXattrs(entry: string): Xattr[] {
  const a = addon();
  if (typeof a === 'string') throw new Error(a);
  const at = encodeBytes(entry);
  let names: Buffer;
  try {
    names = a.list(at);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return [];
    throw err;
  }
  const out: Xattr[] = [];
  let start = 0;
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== 0) continue;
    const name = names.subarray(start, i);
    start = i + 1;
    let value: Buffer;
    try {
      value = a.get(at, name);
    } catch (err) {
      // Removed between the list and the read.
      if ((err as NodeJS.ErrnoException).code === 'ENODATA') continue;
      throw err;
    }
    out.push({ name: decodeBytes(name), value: value.toString('base64') });
  }
  return out.sort((x, y) => Buffer.compare(encodeBytes(x.name), encodeBytes(y.name)));
}

/** Sets each attribute; returns those the target refused, with why (the caller warns: nothing is dropped in
 *  silence). */
export function writeXattrs(entry: string, xattrs: readonly Xattr[]): { name: string; why: string }[] {
  const a = addon();
  if (typeof a === 'string') return xattrs.map((x) => ({ name: x.name, why: a }));
  const at = encodeBytes(entry);
  const refused: { name: string; why: string }[] = [];
  for (const x of xattrs) {
    try {
      a.set(at, encodeBytes(x.name), Buffer.from(x.value, 'base64'));
    } catch (err) {
      refused.push({ name: x.name, why: (err as Error).message });
    }
  }
  return refused;
}
