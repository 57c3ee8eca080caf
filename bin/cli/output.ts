// How the CLI speaks: human text and a progress bar on a terminal, or JSON lines with --json.
import type { JobEvent } from '../../lib/engine';
import { formatBytes, formatDuration } from '../../lib/format';

/** Where JSON lines and results go: stdout, unless a command writes its data there (`dump` without --output). */
let lines: NodeJS.WritableStream = process.stdout;

/** The command writes its data on stdout: lines and results go to stderr, so that the data stays whole. */
export function linesToStderr(): void {
  lines = process.stderr;
}

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
    } else if (event.type === 'phase' && event.job === 'copy') {
      this.clearBar();
      process.stderr.write(`${event.phase}\n`);
    } else if (event.type === 'progress' && process.stderr.isTTY) {
      process.stderr.write(`\r${progressBar(event, process.stderr.columns ?? 80)}`);
      this.barShown = true;
    }
  };

  /** The command's result: a JSON line, or the human text. */
  result(command: string, data: Record<string, unknown>, text: string): void {
    this.clearBar();
    if (this.json) this.line({ type: 'result', command, ...data });
    else if (text) lines.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Something a long-running command reports as it happens: a JSON line, or the text on stderr. */
  notice(data: { type: string } & Record<string, unknown>, text: string): void {
    this.clearBar();
    if (this.json) this.line(data);
    else if (text) process.stderr.write(`${text}\n`);
  }

  error(code: string, message: string): void {
    this.clearBar();
    if (this.json) this.line({ type: 'error', code, message });
    else process.stderr.write(`lifeline: ${message}\n`);
  }

  private line(obj: Record<string, unknown>): void {
    lines.write(`${JSON.stringify(obj)}\n`);
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
