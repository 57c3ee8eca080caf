// POSIX ACLs as the kernel stores them in the system.posix_acl_access and system.posix_acl_default attributes
// (linux/posix_acl_xattr.h): a version (2), then one entry per line of the ACL, sorted by tag and id. Written
// here so that the tests can give files ACLs without the acl package's setfacl.

const TAG = { user_obj: 0x01, user: 0x02, group_obj: 0x04, group: 0x08, mask: 0x10, other: 0x20 } as const;
const UNDEFINED_ID = 0xffffffff;

export interface AclEntry {
  tag: keyof typeof TAG;
  /** rwx as bits: 4 read, 2 write, 1 execute. */
  perm: number;
  /** The user or group, for `user` and `group` entries. */
  id?: number;
}

/** The attribute's value, base64, as the Xattr records of lib/engine/xattrs.ts hold it. */
export function posixAcl(entries: AclEntry[]): string {
  const sorted = [...entries].sort((a, b) => TAG[a.tag] - TAG[b.tag] || (a.id ?? 0) - (b.id ?? 0));
  const out = Buffer.alloc(4 + 8 * sorted.length);
  out.writeUInt32LE(2, 0);
  sorted.forEach((e, i) => {
    out.writeUInt16LE(TAG[e.tag], 4 + 8 * i);
    out.writeUInt16LE(e.perm, 6 + 8 * i);
    out.writeUInt32LE(e.id ?? UNDEFINED_ID, 8 + 8 * i);
  });
  return out.toString('base64');
}
