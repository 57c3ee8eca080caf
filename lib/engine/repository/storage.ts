// The narrow storage interface a repository lives on: named objects, listed, read, written atomically, deleted.
// A local directory implements it today; S3-compatible storage and a remote repository server slot in later.

export const OBJECT_KINDS = ['keys', 'data', 'index', 'snapshots', 'locks'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

export interface ObjectInfo {
  name: string;
  size: number;
  /** Last modification, in milliseconds since the epoch. */
  mtimeMs: number;
}

export interface Storage {
  /** Where the repository is, for messages. */
  readonly location: string;
  /** Every object of a kind, by name without the kind prefix. */
  list(kind: ObjectKind): Promise<ObjectInfo[]>;
  /** The whole object, or `length` bytes from `offset`; a negative offset counts from the end. */
  get(name: string, range?: { offset: number; length?: number }): Promise<Buffer>;
  /** Writes an object so that readers see all of it or none of it, durable when the promise resolves.
   *  With `exclusive`, fails with `repository-exists`-like EEXIST semantics if the object is there. `underLock`
   *  names the lock (`locks/<id>`) the writer holds for an index file or a snapshot: storage that others write
   *  through (the control plane's storage API) refuses the write unless that lock is there and the writer's. */
  put(name: string, data: Uint8Array, options?: PutOptions): Promise<void>;
  delete(name: string): Promise<void>;
  exists(name: string): Promise<boolean>;
}

export interface PutOptions {
  exclusive?: boolean;
  underLock?: string;
}

export function objectName(kind: ObjectKind, id: string): string {
  return `${kind}/${id}`;
}
