// How the CLI speaks: human text and a progress bar on a terminal, or JSON lines with --json.
import type { JobEvent } from '../../lib/engine';

export class Output {
  private barShown = false;

  constructor(readonly json: boolean) {}

  event = (event: JobEvent): void => {
    if (this.json) {
      this.line({ ...event });
      return;
    }
    if (event.type === 'warning') {
      this.clearBar();
      process.stderr.write(`warning: ${event.path}: ${event.message}\n`);
    } else if (event.type === 'progress' && process.stderr.isTTY) {
      process.stderr.write(`\r${progressBar(event, process.stderr.columns ?? 80)}`);
      this.barShown = true;
    }
  };

  /** The command's result: a JSON line, or the human text. */
  result(command: string, data: Record<string, unknown>, text: string): void {
    this.clearBar();
    if (this.json) this.line({ type: 'result', command, ...data });
    else if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  error(code: string, message: string): void {
    this.clearBar();
    if (this.json) this.line({ type: 'error', code, message });
    else process.stderr.write(`lifeline: ${message}\n`);
  }

  private line(obj: Record<string, unknown>): void {
    process.stdout.write(`${JSON.stringify(obj)}\n`);
  }

  private clearBar(): void {
    if (!this.barShown) return;
    process.stderr.write('\r\x1b[K');
    this.barShown = false;
  }
}

function progressBar(e: Extract<JobEvent, { type: 'progress' }>, columns: number): string {
  const fraction = e.bytesTotal > 0 ? Math.min(e.bytesDone / e.bytesTotal, 1) : 0;
  const width = 24;
  const filled = Math.round(fraction * width);
  const eta = e.etaSeconds === null ? '--:--' : formatDuration(e.etaSeconds);
  const text = `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(e.bytesDone)}/${formatBytes(e.bytesTotal)}  ${e.filesDone}/${e.filesTotal} files  ${formatBytes(e.rate)}/s  ETA ${eta}  ${e.currentPath ?? ''}`;
  return text.length >= columns ? text.slice(0, columns - 1) : text.padEnd(columns - 1);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number) => String(x).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
