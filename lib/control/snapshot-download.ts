// Downloads from a snapshot: a file, or a folder as a tar stream, read by `lifeline dump` in a child process (the
// decryption and the checks of every blob never run on the server's event loop) and passed on as it comes. The
// answer's status is known before its first byte: the dump says what it will write once it has found the path, or
// fails (an unknown path: not found). A failure after that ends the download as failed, never as a short file that
// looks whole.
import 'server-only';

import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

import { repositoryInfo } from './repository';
import { spawnCli } from './run-cli';
import { repositoryCredentialsFile } from './s3-credentials';
import { snapshotLocation } from './snapshot-cache';

export type DownloadStart =
  | { ok: true; kind: 'file' | 'tar'; body: ReadableStream<Uint8Array>; done: Promise<{ ok: boolean; error?: string }> }
  | { ok: false; status: 404 | 500; error: string };

/** The name the browser saves the download under: the entry's own name (a folder's with .tar). */
export function downloadName(at: string, kind: 'file' | 'tar'): string {
  const base = at === '/' ? 'snapshot' : path.posix.basename(at);
  return kind === 'tar' ? `${base}.tar` : base;
}

/** Content-Disposition for `name`: an ASCII fallback and the name itself (RFC 6266, RFC 5987). */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function startDownload(snapshot: string, at: string, signal: AbortSignal): Promise<DownloadStart> {
  const repo = repositoryInfo();
  if (!repo) return Promise.resolve({ ok: false, status: 404, error: 'no repository is configured' });
  const child = spawnCli(
    ['dump', '--repo', snapshotLocation(snapshot), snapshot, at],
    repo.passwordFile,
    repositoryCredentialsFile(),
  );
  const stop = () => child.kill('SIGINT');
  signal.addEventListener('abort', stop, { once: true });
  let error: { code?: string; message?: string } | null = null;
  let started: ((kind: 'file' | 'tar') => void) | null = null;
  const kind = new Promise<'file' | 'tar' | null>((resolve) => {
    started = resolve;
    // 'close': once its output is read to the end, so that a line it wrote just before exiting is not missed.
    child.once('close', () => resolve(null));
  });
  readline.createInterface({ input: child.stderr! }).on('line', (text) => {
    let line: { type?: string; kind?: 'file' | 'tar'; code?: string; message?: string };
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    if (line.type === 'dump' && line.kind) started?.(line.kind);
    if (line.type === 'error') error = line;
  });
  const exited = exitOf(child);
  return kind.then(async (found) => {
    if (found === null) {
      const { code } = await exited;
      signal.removeEventListener('abort', stop);
      const failed = error as { code?: string; message?: string } | null;
      const message = failed?.message?.split('\n')[0] ?? `the dump stopped (exit code ${code})`;
      return { ok: false, status: failed?.code === 'not-found' ? 404 : 500, error: message };
    }
    const done = exited.then(({ code }) => {
      signal.removeEventListener('abort', stop);
      const failed = error as { message?: string } | null;
      return code === 0 ? { ok: true } : { ok: false, error: failed?.message ?? `exit code ${code}` };
    });
    return { ok: true, kind: found, body: bodyOf(child, done), done };
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null }> {
  return new Promise((resolve) => child.once('close', (code) => resolve({ code })));
}

/** The child's stdout as a web stream that ends once the dump has: closed if it succeeded, errored if not. */
function bodyOf(child: ChildProcess, done: Promise<{ ok: boolean; error?: string }>): ReadableStream<Uint8Array> {
  const out = child.stdout!;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        out.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk));
          // Read no further than the browser takes: the dump waits meanwhile, and memory stays bounded.
          if ((controller.desiredSize ?? 1) <= 0) out.pause();
        });
        const ended = new Promise<void>((resolve) => out.once('end', resolve));
        void Promise.all([ended, done]).then(([, outcome]) => {
          if (outcome.ok) controller.close();
          else controller.error(new Error(`the download failed: ${outcome.error}`));
        });
      },
      pull() {
        out.resume();
      },
      cancel() {
        child.kill('SIGINT');
      },
    },
    { highWaterMark: 4 },
  );
}
