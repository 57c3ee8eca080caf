// Storage in an S3 bucket (AWS, Ceph radosgw, any S3-compatible server), through the AWS SDK for JavaScript v3.
// The same layout as a local repository under an optional prefix (data/<id[0:2]>/<id>, index/, snapshots/, keys/,
// locks/, config). Every object is written in one PUT; every object but the two that are replaced by design (a
// lock, when it is refreshed, and the config, when a feature is listed) is written with `If-None-Match: *`, so
// that nothing already stored is ever overwritten: an object that is there already under a content-addressed
// name holds the same bytes, and the put is done. Reads of a single blob are ranged GETs. The SDK retries 5xx
// answers, throttling and dropped connections with exponential backoff and jitter.
import { createHash } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';

import type { S3Client } from '@aws-sdk/client-s3';

import { EngineError } from '../errors';
import {
  OBJECT_KINDS,
  type ObjectInfo,
  type ObjectKind,
  type ObjectLock,
  type PutOptions,
  type Storage,
} from './storage';

/** Where an S3 repository is: `s3:http(s)://host[:port]/bucket[/prefix]`. */
export interface S3Location {
  endpoint: string;
  bucket: string;
  /** Empty, or ending in `/`. */
  prefix: string;
}

export interface S3Options {
  /** `path` (http://host/bucket/key, the default) or `dns` (http://bucket.host/key, virtual-host addressing);
   *  LIFELINE_S3_BUCKET_LOOKUP sets it for the CLI. */
  bucketLookup?: 'path' | 'dns';
  /** Attempts per request, the first included (retries back off exponentially, with jitter). */
  maxAttempts?: number;
  /** Test hook: how connections are made (a fixed address for a virtual-host name). */
  agent?: HttpAgent | HttpsAgent;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const LOCATION = /^s3:(https?:\/\/[^/?#]+)\/([^/?#]+)(?:\/([^?#]*))?$/;
/** S3's rule for bucket names (3–63 lowercase letters, digits, dots and hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Location(location: string): boolean {
  return location.startsWith('s3:');
}

export function parseS3Location(location: string): S3Location {
  const m = LOCATION.exec(location);
  if (!m)
    throw new EngineError(
      'invalid-argument',
      `${location} is not an S3 location: write s3:http(s)://host[:port]/bucket[/prefix]`,
    );
  const [, endpoint, bucket, rawPrefix = ''] = m;
  if (!BUCKET.test(bucket))
    throw new EngineError(
      'invalid-argument',
      `${bucket} is not a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens`,
    );
  const parts = rawPrefix.split('/').filter(Boolean);
  if (parts.some((p) => p === '.' || p === '..'))
    throw new EngineError('invalid-argument', `the prefix in ${location} may not hold . or .. parts`);
  return { endpoint, bucket, prefix: parts.length ? `${parts.join('/')}/` : '' };
}

/** Objects that are replaced by design, written without `If-None-Match`. */
function isReplaceable(name: string): boolean {
  return name === 'config' || name.startsWith('locks/');
}

type Sdk = typeof import('@aws-sdk/client-s3');
type Http = typeof import('@smithy/node-http-handler');

let loading: Promise<{ s3: Sdk; http: Http }> | undefined;
/** The SDK once loaded: an error it threw is recognised by its class, and it has been loaded by then. */
let loadedSdk: Sdk | undefined;

function loadSdk(): Promise<{ s3: Sdk; http: Http }> {
  loading ??= Promise.all([import('@aws-sdk/client-s3'), import('@smithy/node-http-handler')]).then(([s3, http]) => {
    loadedSdk = s3;
    return { s3, http };
  });
  return loading;
}

export class S3Storage implements Storage {
  readonly location: string;
  /** Bytes read by get(), by kind (the first segment of the name), as LocalStorage counts them. */
  readonly bytesRead = new Map<string, number>();
  private client?: Promise<{ client: S3Client; s3: Sdk }>;
  private readonly options: S3Options;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly endpoint: string;
  private lockRule?: Promise<ObjectLock | null | 'unreadable'>;

  constructor(where: S3Location, options: S3Options = {}) {
    // The SDK warns on Node 20 that its releases after January 2027 need Node 22: the version here is pinned.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.bucket = where.bucket;
    this.prefix = where.prefix;
    this.endpoint = where.endpoint;
    this.location = `s3:${where.endpoint}/${where.bucket}${where.prefix ? `/${where.prefix.slice(0, -1)}` : ''}`;
    this.options = options;
  }

  /** The SDK and this storage's client, made on first use: loading the SDK takes a twentieth of a second, which
   *  every command on a repository on disk would otherwise pay at start. */
  private ready(): Promise<{ client: S3Client; s3: Sdk }> {
    this.client ??= loadSdk().then(({ s3, http }) => {
      const options = this.options;
      const lookup = options.bucketLookup ?? bucketLookupFromEnv();
      const client = new s3.S3Client({
        endpoint: this.endpoint,
        region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        forcePathStyle: lookup === 'path',
        // Checksums only where S3 requires them: otherwise a body is sent in aws-chunked framing, which
        // S3-compatible servers refuse (411) or store with the framing inside.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: options.maxAttempts ?? attemptsFromEnv(),
        retryMode: 'standard',
        ...(options.credentials ? { credentials: options.credentials } : {}),
        requestHandler: new http.NodeHttpHandler({
          connectionTimeout: 10_000,
          requestTimeout: 300_000,
          ...(options.agent
            ? this.endpoint.startsWith('https:')
              ? { httpsAgent: options.agent as HttpsAgent }
              : { httpAgent: options.agent as HttpAgent }
            : {}),
        }),
      });
      return { client, s3 };
    });
    return this.client;
  }

  private key(name: string): string {
    const slash = name.indexOf('/');
    const kind = slash < 0 ? name : name.slice(0, slash);
    const id = slash < 0 ? '' : name.slice(slash + 1);
    if (kind === 'data' && id && !id.includes('/')) return `${this.prefix}data/${id.slice(0, 2)}/${id}`;
    return `${this.prefix}${name}`;
  }

  /** Creates the bucket if it is not there (init only); a bucket that is there is used as it is. */
  async createLayout(): Promise<void> {
    const { client, s3 } = await this.ready();
    if (await this.bucketExists()) return;
    await this.run(`create bucket ${this.bucket}`, () =>
      client.send(new s3.CreateBucketCommand({ Bucket: this.bucket })),
    );
  }

  async list(kind: ObjectKind): Promise<ObjectInfo[]> {
    if (!OBJECT_KINDS.includes(kind)) throw new EngineError('invalid-argument', `no such kind of object: ${kind}`);
    const { client, s3 } = await this.ready();
    const prefix = `${this.prefix}${kind}/`;
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.run(`list ${kind}`, () =>
        client.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        // data/<id[0:2]>/<id>: the name is the last part.
        const name = o.Key.slice(o.Key.lastIndexOf('/') + 1);
        if (name) out.push({ name, size: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async get(name: string, range?: { offset: number; length?: number }): Promise<Buffer> {
    const { client, s3 } = await this.ready();
    let Range: string | undefined;
    if (range) {
      if (range.length === 0) return Buffer.alloc(0);
      if (range.offset < 0) Range = `bytes=${range.offset}`;
      else
        Range =
          range.length === undefined
            ? `bytes=${range.offset}-`
            : `bytes=${range.offset}-${range.offset + range.length - 1}`;
    }
    try {
      const res = await this.run(name, () =>
        client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(name), Range })),
      );
      const body = await res.Body!.transformToByteArray();
      const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const kind = name.split('/')[0];
      this.bytesRead.set(kind, (this.bytesRead.get(kind) ?? 0) + bytes.length);
      return bytes;
    } catch (err) {
      // A range that starts past the end: nothing there, as a local file read gives.
      if (err instanceof S3Error && err.status === 416) return Buffer.alloc(0);
      throw err;
    }
  }

  async put(name: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    const { client, s3 } = await this.ready();
    const guarded = options.exclusive || !isReplaceable(name);
    try {
      await this.run(name, () =>
        client.send(
          new s3.PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key(name),
            Body: data,
            ContentLength: data.length,
            // S3 requires it of writes into a bucket with object lock; every server checks it.
            ContentMD5: createHash('md5').update(data).digest('base64'),
            ...(guarded ? { IfNoneMatch: '*' } : {}),
          }),
        ),
      );
    } catch (err) {
      if (err instanceof S3Error && (err.status === 412 || err.s3Code === 'PreconditionFailed')) {
        // A retried write whose first attempt landed (its answer lost) meets itself: that is no conflict.
        if (
          options.exclusive &&
          !(await this.get(name).then(
            (there) => there.equals(data),
            () => false,
          ))
        )
          throw new EngineError('repository-exists', `object ${name} already exists`, { cause: err });
        // Named by its content: the object there holds these bytes (a reader checks them against the name).
        return;
      }
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    const { client, s3 } = await this.ready();
    await this.run(name, () => client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) })));
  }

  /** A GET of one byte rather than a HEAD: an error then comes with its body, so wrong credentials are named as
   *  such and not as a bare 403. */
  async exists(name: string): Promise<boolean> {
    const { client, s3 } = await this.ready();
    try {
      const res = await this.run(name, () =>
        client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(name), Range: 'bytes=0-0' })),
      );
      // Read to the end, or the connection stays taken (and keeps the process from ending).
      await res.Body?.transformToByteArray();
      return true;
    } catch (err) {
      // Nothing is in a bucket that is not there (init asks before it creates the bucket).
      if (isEngineError404(err) || (err instanceof EngineError && err.code === 'no-repository')) return false;
      // An empty object has no first byte.
      if (err instanceof S3Error && err.status === 416) return true;
      throw err;
    }
  }

  /** Writes, reads back and deletes a probe object beside the repository (outside its layout): what a connection
   *  test shows. Fails with the step that failed and why. */
  async probe(): Promise<{ bucketCreated: boolean; lock: ObjectLock | null }> {
    const bucketCreated = !(await this.bucketExists());
    if (bucketCreated) await this.createLayout();
    const name = `lifeline-probe-${Date.now().toString(36)}`;
    const bytes = Buffer.from(`written by Lifeline's connection test at ${new Date().toISOString()}`);
    await this.put(name, bytes, { exclusive: true });
    const back = await this.get(name);
    if (!back.equals(bytes))
      throw new EngineError('io', `S3 at ${this.endpoint} gave back other bytes than were written to ${name}`);
    await this.delete(name);
    if (await this.exists(name))
      throw new EngineError('io', `S3 at ${this.endpoint} still lists ${name} after deleting it`);
    const lock = await this.objectLock();
    return { bucketCreated, lock: lock === 'unreadable' ? null : lock };
  }

  /** The bucket's default retention, which S3 gives every object version written to it; null without object lock;
   *  'unreadable' where the credentials may not read the bucket's setting (then each object's own retention is
   *  what counts). */
  objectLock(): Promise<ObjectLock | null | 'unreadable'> {
    this.lockRule ??= this.readLockConfiguration().then(
      (found) => (found === 'unreadable' ? found : found.rule),
      (err) => {
        // Asked again next time: a failure of the network is not the bucket's setting.
        this.lockRule = undefined;
        throw err;
      },
    );
    return this.lockRule;
  }

  /** The bucket's object lock setting as S3 gives it: whether it is on, and its default retention. */
  private async readLockConfiguration(): Promise<{ enabled: boolean; rule: ObjectLock | null } | 'unreadable'> {
    const { client, s3 } = await this.ready();
    try {
      const res = await this.run(`object lock of bucket ${this.bucket}`, () =>
        client.send(new s3.GetObjectLockConfigurationCommand({ Bucket: this.bucket })),
      );
      const cfg = res.ObjectLockConfiguration;
      const enabled = cfg?.ObjectLockEnabled === 'Enabled';
      const rule = cfg?.Rule?.DefaultRetention;
      if (!enabled || !rule?.Mode) return { enabled, rule: null };
      const days = rule.Days ?? (rule.Years ?? 0) * 365;
      return { enabled, rule: { mode: rule.Mode === 'COMPLIANCE' ? 'compliance' : 'governance', days } };
    } catch (err) {
      if (err instanceof S3Error && err.status === 404) return { enabled: false, rule: null };
      if (err instanceof S3Error && err.status === 403) return 'unreadable';
      throw err;
    }
  }

  /** Makes the bucket keep every object version for `lock.days` after it is written: creates the bucket with
   *  object lock if it is not there, and refuses a bucket made without it (S3 turns it on only at creation). */
  async enableObjectLock(lock: ObjectLock): Promise<void> {
    if (!Number.isInteger(lock.days) || lock.days < 1 || lock.days > 36_500)
      throw new EngineError('invalid-argument', `an object lock of ${lock.days} days: give whole days from 1 to 36500`);
    const { client, s3 } = await this.ready();
    if (await this.bucketExists()) {
      const found = await this.readLockConfiguration();
      if (found === 'unreadable')
        throw new EngineError('io', `S3 at ${this.endpoint} denied reading the object lock of bucket ${this.bucket}`);
      const { enabled, rule: current } = found;
      if (current && (current.days > lock.days || (current.mode === 'compliance' && lock.mode !== 'compliance')))
        throw new EngineError(
          'invalid-argument',
          `S3 bucket ${this.bucket} already keeps every object ${current.days} days (${current.mode}): a repository here may not weaken that for the others; give at least ${current.days} days${current.mode === 'compliance' ? ' in compliance mode' : ''}`,
        );
      if (!enabled)
        throw new EngineError(
          'invalid-argument',
          `S3 bucket ${this.bucket} at ${this.endpoint} was created without object lock, and S3 turns it on only when a bucket is created: name a new bucket (Lifeline creates it with object lock) or one created with it`,
        );
    } else {
      await this.run(`create bucket ${this.bucket}`, () =>
        client.send(new s3.CreateBucketCommand({ Bucket: this.bucket, ObjectLockEnabledForBucket: true })),
      );
    }
    await this.run(`object lock of bucket ${this.bucket}`, () =>
      client.send(
        new s3.PutObjectLockConfigurationCommand({
          Bucket: this.bucket,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: {
              DefaultRetention: { Mode: lock.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE', Days: lock.days },
            },
          },
        }),
      ),
    );
    this.lockRule = Promise.resolve(lock);
  }

  /** Until when the object's current version may not be deleted, in ms; null if it is not retained. */
  async retainedUntil(name: string): Promise<number | null> {
    const { client, s3 } = await this.ready();
    if (!(await this.objectLock())) return null;
    const head = await this.run(name, () =>
      client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) })),
    );
    const until = head.ObjectLockRetainUntilDate?.getTime() ?? null;
    return until !== null && until > Date.now() ? until : null;
  }

  /** Keeps the object's current version until `untilMs` at least (a retention is only ever extended). True if it
   *  was extended, false if it was kept that long already. */
  async extendRetention(name: string, untilMs: number): Promise<boolean> {
    const { client, s3 } = await this.ready();
    const lock = await this.objectLock();
    if (!lock || lock === 'unreadable')
      throw new EngineError(
        'invalid-argument',
        `S3 bucket ${this.bucket} has no object lock${lock ? ' these credentials may read' : ''}`,
      );
    const head = await this.run(name, () =>
      client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) })),
    );
    if ((head.ObjectLockRetainUntilDate?.getTime() ?? 0) >= untilMs) return false;
    await this.run(name, () =>
      client.send(
        new s3.PutObjectRetentionCommand({
          Bucket: this.bucket,
          Key: this.key(name),
          VersionId: head.VersionId,
          Retention: {
            Mode: head.ObjectLockMode ?? (lock.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE'),
            RetainUntilDate: new Date(untilMs),
          },
        }),
      ),
    );
    return true;
  }

  /** Every version and delete marker of the repository's objects (its config, keys, packs, index files and
   *  snapshots; not its locks, nor anything else under the prefix, such as another repository's objects). */
  async listVersions(): Promise<ObjectVersion[]> {
    const out: ObjectVersion[] = [];
    for (const under of ['config', 'keys/', 'data/', 'index/', 'snapshots/'])
      for (const v of await this.listVersionsUnder(`${this.prefix}${under}`))
        if (under !== 'config' || v.key === `${this.prefix}config`) out.push(v);
    return out;
  }

  private async listVersionsUnder(prefix: string): Promise<ObjectVersion[]> {
    const { client, s3 } = await this.ready();
    const out: ObjectVersion[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      const page = await this.run('list versions', () =>
        client.send(
          new s3.ListObjectVersionsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        ),
      );
      const add = (
        v: { Key?: string; VersionId?: string; LastModified?: Date; IsLatest?: boolean; ETag?: string },
        deleteMarker: boolean,
      ) => {
        if (!v.Key || !v.VersionId) return;
        out.push({
          key: v.Key,
          versionId: v.VersionId,
          modifiedMs: v.LastModified?.getTime() ?? 0,
          deleteMarker,
          latest: v.IsLatest === true,
          etag: deleteMarker ? null : (v.ETag ?? null),
        });
      };
      for (const v of page.Versions ?? []) add(v, false);
      for (const m of page.DeleteMarkers ?? []) add(m, true);
      if (!page.IsTruncated) return out;
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
    }
  }

  /** Whether the bucket keeps earlier versions of what is deleted or overwritten (versioning enabled). */
  async keepsVersions(): Promise<boolean> {
    const { client, s3 } = await this.ready();
    const res = await this.run(`versioning of bucket ${this.bucket}`, () =>
      client.send(new s3.GetBucketVersioningCommand({ Bucket: this.bucket })),
    );
    return res.Status === 'Enabled';
  }

  /** Makes an earlier version of an object (by its key in the bucket) the current one again: a copy of it. */
  async restoreVersion(key: string, versionId: string): Promise<void> {
    const { client, s3 } = await this.ready();
    await this.run(key, () =>
      client.send(
        new s3.CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}?versionId=${encodeURIComponent(versionId)}`,
        }),
      ),
    );
  }

  /** Hides the current version of an object (by its key in the bucket) behind a delete marker. */
  async hide(key: string): Promise<void> {
    const { client, s3 } = await this.ready();
    await this.run(key, () => client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  private async bucketExists(): Promise<boolean> {
    const { client, s3 } = await this.ready();
    try {
      await this.run(`bucket ${this.bucket}`, () =>
        client.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1 })),
      );
      return true;
    } catch (err) {
      if (err instanceof EngineError && err.code === 'no-repository') return false;
      throw err;
    }
  }

  /** Runs a request; a failure becomes an engine error that names the cause (where, and what S3 said). */
  private async run<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw this.explain(err, what);
    }
  }

  private explain(err: unknown, what: string): Error {
    const at = `${this.endpoint} (bucket ${this.bucket})`;
    if (loadedSdk && err instanceof loadedSdk.S3ServiceException) {
      const status = err.$metadata?.httpStatusCode ?? 0;
      const code = err.name;
      if (code === 'NoSuchBucket' || (status === 404 && what.startsWith('bucket ')))
        return new EngineError('no-repository', `S3 bucket ${this.bucket} does not exist at ${this.endpoint}`, {
          cause: err,
        });
      if (code === 'NoSuchKey' || code === 'NotFound' || status === 404)
        return new S3Error(
          'not-found',
          `object ${what} is missing from the repository at ${this.location}`,
          status,
          code,
          err,
        );
      if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch')
        return new EngineError(
          'wrong-password',
          `S3 at ${at} refused the credentials (${code}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile in use`,
          { cause: err },
        );
      if (code === 'AccessDenied' || status === 403)
        return new S3Error('io', `S3 at ${at} denied access to ${what} (${code})`, status || 403, code, err);
      return new S3Error('io', `S3 at ${at} failed on ${what}: ${code} (HTTP ${status})`, status, code, err);
    }
    const sys = (err as NodeJS.ErrnoException)?.code;
    if (sys === 'ECONNREFUSED' || sys === 'ENOTFOUND' || sys === 'EHOSTUNREACH' || sys === 'ETIMEDOUT')
      return new EngineError('io', `cannot reach the S3 endpoint ${this.endpoint}: ${sys}`, { cause: err });
    if ((err as Error)?.name === 'CredentialsProviderError')
      return new EngineError(
        'invalid-argument',
        `no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials`,
        { cause: err },
      );
    return new EngineError('io', `S3 at ${at} failed on ${what}: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  }
}

/** A version of an object, or a delete marker, in a versioned bucket. */
export interface ObjectVersion {
  key: string;
  versionId: string;
  modifiedMs: number;
  deleteMarker: boolean;
  latest: boolean;
  /** The content's ETag; null for a delete marker. */
  etag: string | null;
}

/** An S3 failure with its HTTP status and S3 error code kept, for the storage to act on. */
class S3Error extends EngineError {
  constructor(
    code: 'not-found' | 'io',
    message: string,
    readonly status: number,
    readonly s3Code: string,
    cause: unknown,
  ) {
    super(code, message, { cause });
  }
}

function isEngineError404(err: unknown): boolean {
  return err instanceof S3Error && err.code === 'not-found';
}

function bucketLookupFromEnv(): 'path' | 'dns' {
  const v = process.env.LIFELINE_S3_BUCKET_LOOKUP;
  if (v === undefined || v === '' || v === 'path') return 'path';
  if (v === 'dns') return 'dns';
  throw new EngineError('invalid-argument', `LIFELINE_S3_BUCKET_LOOKUP is ${v}: give path or dns`);
}

/** Attempts per request: LIFELINE_S3_MAX_ATTEMPTS, else 6 (about 10 s of backoff before a request fails). */
function attemptsFromEnv(): number {
  const v = process.env.LIFELINE_S3_MAX_ATTEMPTS;
  if (v === undefined || v === '') return 6;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 20)
    throw new EngineError('invalid-argument', `LIFELINE_S3_MAX_ATTEMPTS is ${v}: give a whole number from 1 to 20`);
  return n;
}
