// The narrow storage interface a repository lives on: named objects, listed, read, written atomically, deleted.
// A local directory, an S3 bucket (s3-storage.ts) and the control plane's storage API (http-storage.ts) implement it.

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

/** How long a bucket keeps every object version written to it (S3 object lock, as a default retention). */
export interface ObjectLock {
  /** Compliance: no one can delete a version or shorten its retention. Governance: a user with the right to
   *  bypass it can. */
  mode: 'compliance' | 'governance';
  days: number;
}

/** Storage that keeps what it is given for a while (S3 object lock): what deletes must check first. */
export interface RetainingStorage {
  /** The default retention; null without one; 'unreadable' if these credentials may not read the setting. */
  objectLock(): Promise<ObjectLock | null | 'unreadable'>;
  /** Until when (ms) the object may not be deleted, or null. */
  retainedUntil(name: string): Promise<number | null>;
  extendRetention(name: string, untilMs: number): Promise<boolean>;
}

export function isRetaining(storage: Storage): storage is Storage & RetainingStorage {
  return typeof (storage as Partial<RetainingStorage>).retainedUntil === 'function';
}

export interface PutOptions {
  exclusive?: boolean;
  underLock?: string;
}

export function objectName(kind: ObjectKind, id: string): string {
  return `${kind}/${id}`;
}
