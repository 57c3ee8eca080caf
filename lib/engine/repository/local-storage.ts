// Storage on a local directory: temporary file, fsync, rename, fsync of the directory.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';

import { EngineError, fromSystemError } from '../errors';
import { OBJECT_KINDS, type ObjectInfo, type ObjectKind, type PutOptions, type Storage } from './storage';

const TEMP_MARK = '.tmp-';
/** Temporary files older than this were left by a dead writer and may be removed. */
const STALE_TEMP_MS = 60 * 60 * 1000;

export class LocalStorage implements Storage {
  readonly location: string;
  /** Bytes read by get(), by kind (the first segment of the name): what a job cost the repository's disk. */
  readonly bytesRead = new Map<string, number>();

  constructor(readonly root: string) {
    this.location = path.resolve(root);
  }

  /** Data objects live in 256 sub-directories so that no directory grows past a few thousand entries. */
  private pathOf(name: string): string {
    const [kind, id] = splitName(name);
    if (kind === 'data' && id) return path.join(this.location, 'data', id.slice(0, 2), id);
    return path.join(this.location, name);
  }

  async createLayout(): Promise<void> {
    await fs.mkdir(this.location, { recursive: true, mode: 0o700 });
    for (const kind of OBJECT_KINDS)
      await fs.mkdir(path.join(this.location, kind), { mode: 0o700 }).catch(ignoreExists);
  }

  async list(kind: ObjectKind): Promise<ObjectInfo[]> {
    const dir = path.join(this.location, kind);
    const dirs = kind === 'data' ? await subdirectories(dir) : [dir];
    const out: ObjectInfo[] = [];
    for (const d of dirs) {
      let entries: string[];
      try {
        entries = await fs.readdir(d);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw fromSystemError(err, d);
      }
      for (const name of entries) {
        if (name.includes(TEMP_MARK)) {
          await removeIfStale(path.join(d, name));
          continue;
        }
        const st = await fs.stat(path.join(d, name)).catch(() => null);
        if (st?.isFile()) out.push({ name, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
    return out;
  }

  async get(name: string, range?: { offset: number; length?: number }): Promise<Buffer> {
    const file = this.pathOf(name);
    const counted = (bytes: Buffer) => {
      const kind = name.slice(0, name.indexOf('/') + 1 || name.length).replace(/\/$/, '');
      this.bytesRead.set(kind, (this.bytesRead.get(kind) ?? 0) + bytes.length);
      return bytes;
    };
    try {
      if (!range) return counted(await fs.readFile(file));
      const handle = await fs.open(file, 'r');
      try {
        const { size } = await handle.stat();
        const start = range.offset < 0 ? Math.max(0, size + range.offset) : range.offset;
        const length = Math.min(range.length ?? size - start, size - start);
        const buf = Buffer.allocUnsafe(Math.max(0, length));
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(buf, done, length - done, start + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return counted(buf.subarray(0, done));
      } finally {
        await handle.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new EngineError('not-found', `object ${name} is missing from the repository`, { cause: err });
      }
      throw fromSystemError(err, `repository object ${name}`);
    }
  }

  async put(name: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    const file = this.pathOf(name);
    const dir = path.dirname(file);
    const temp = path.join(dir, `${path.basename(file)}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await fs.open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
      try {
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await handle.write(data, done, data.length - done);
          done += bytesWritten;
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (options.exclusive) {
        // link() refuses to replace an existing name, which rename() would silently do.
        await fs.link(temp, file);
        await fs.unlink(temp);
      } else {
        await fs.rename(temp, file);
      }
      await syncDirectory(dir);
    } catch (err) {
      await fs.unlink(temp).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new EngineError('repository-exists', `object ${name} already exists`, { cause: err });
      }
      throw fromSystemError(err, `repository object ${name}`);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await fs.unlink(this.pathOf(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(err, `repository object ${name}`);
    }
  }

  async exists(name: string): Promise<boolean> {
    return fs.access(this.pathOf(name)).then(
      () => true,
      () => false,
    );
  }
}

function splitName(name: string): [string, string | undefined] {
  const slash = name.indexOf('/');
  return slash < 0 ? [name, undefined] : [name.slice(0, slash), name.slice(slash + 1)];
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromSystemError(err, dir);
  }
}

async function removeIfStale(file: string): Promise<void> {
  const st = await fs.stat(file).catch(() => null);
  if (st && Date.now() - st.mtimeMs > STALE_TEMP_MS) await fs.unlink(file).catch(() => undefined);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function ignoreExists(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EEXIST') throw err;
}
