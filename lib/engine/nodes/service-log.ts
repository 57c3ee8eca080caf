// The guarded service's output (stdout and stderr together), kept on its node: appended in order to a file in the
// agent's state directory, which is rotated once it would pass its cap (the previous file kept as `.1`), so the
// node holds at most twice the cap. The node page shows its tail; a start that fails names the first error line
// of the whole output (a stack trace after it no longer hides it) and where the rest is.
import { appendFile, open, rename, stat } from 'node:fs/promises';

/** The cap of each of the two files. */
export const SERVICE_LOG_BYTES = 1024 * 1024;
/** The most output waiting to be written (a slow or stalled disk): past it, output is dropped, and the log says
 *  how much, rather than the agent's memory growing with a chatty service. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export class ServiceLog {
  private queue: Promise<void> = Promise.resolve();
  private size = -1;
  private pending = 0;
  private dropped = 0;

  constructor(
    readonly file: string,
    private readonly maxBytes = SERVICE_LOG_BYTES,
  ) {}

  /** Appends `chunk`, after every chunk before it (or counts it as dropped while too much waits). */
  write(chunk: Buffer): void {
    if (this.pending + chunk.length > MAX_PENDING_BYTES) {
      this.dropped += chunk.length;
      return;
    }
    this.pending += chunk.length;
    // Where output was dropped, the log says so, in its place.
    const dropped = this.dropped;
    this.dropped = 0;
    this.queue = this.queue
      .then(async () => {
        if (dropped > 0)
          await this.append(
            Buffer.from(`\n[lifeline: ${dropped} bytes of output dropped: the disk did not keep up]\n`),
          );
        await this.append(chunk);
      })
      .catch(() => {
        // Read the file's size again next time: it may have been removed or rotated by hand.
        this.size = -1;
      })
      .finally(() => {
        this.pending -= chunk.length;
      });
  }

  private async append(chunk: Buffer): Promise<void> {
    if (this.size < 0)
      this.size = await stat(this.file).then(
        (s) => s.size,
        () => 0,
      );
    if (this.size > 0 && this.size + chunk.length > this.maxBytes) {
      // A file removed by hand meanwhile is simply started again.
      await rename(this.file, `${this.file}.1`).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.size = 0;
    }
    // A chunk larger than the cap keeps its end.
    const part = chunk.length > this.maxBytes ? chunk.subarray(chunk.length - this.maxBytes) : chunk;
    await appendFile(this.file, part, { mode: 0o600 });
    this.size += part.length;
  }

  /** The last `bytes` of the output (across the rotation), once what was written so far is on disk. */
  async tail(bytes = 16 * 1024): Promise<string> {
    await this.queue;
    const current = await lastBytes(this.file, bytes);
    const before = current.length < bytes ? await lastBytes(`${this.file}.1`, bytes - current.length) : Buffer.alloc(0);
    return Buffer.concat([before, current]).toString('utf8');
  }
}

async function lastBytes(file: string, bytes: number): Promise<Buffer> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return Buffer.alloc(0);
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer;
  } finally {
    await handle.close();
  }
}

/** What a service printed as it started, bounded: its first and its last 16 KB, for the error a failed start
 *  reports. */
export class StartOutput {
  private head = '';
  private tail = '';
  private static readonly KEEP = 16 * 1024;

  add(text: string): void {
    if (this.head.length < StartOutput.KEEP) this.head += text.slice(0, StartOutput.KEEP - this.head.length);
    this.tail = (this.tail + text).slice(-StartOutput.KEEP);
  }

  /** The first line that names an error (in the first 16 KB, then the last), else the last line printed. */
  errorLine(): string | null {
    const lines = (text: string) => text.split('\n').map((l) => l.trim());
    const named = (text: string) => lines(text).find((l) => /error|fatal|exception|cannot|denied|refused/i.test(l));
    const line = named(this.head) ?? named(this.tail) ?? lines(this.tail).filter(Boolean).at(-1) ?? null;
    // It goes where every role reads (the failover's record): no password of a URL in it.
    return line?.replace(/\/\/[^/\s:@]+:[^@\s]*@/g, '//…@') ?? null;
  }
}
