// Typed progress of every job, and a meter that turns counters into throttled events with a rate and an ETA.

export type JobKind = 'backup' | 'restore' | 'verify' | 'prune' | 'repair' | 'copy';

export interface ProgressEvent {
  type: 'progress';
  job: JobKind;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  currentPath: string | null;
  /** Bytes per second over the job so far. */
  rate: number;
  /** Seconds left at the current rate, or null before there is a rate. */
  etaSeconds: number | null;
}

export interface WarningEvent {
  type: 'warning';
  job: JobKind;
  path: string;
  message: string;
}

export interface PhaseEvent {
  type: 'phase';
  job: JobKind;
  phase: string;
}

export type JobEvent = ProgressEvent | WarningEvent | PhaseEvent;
export type EventSink = (event: JobEvent) => void;

const EMIT_EVERY_MS = 200;

export class ProgressMeter {
  filesDone = 0;
  filesTotal = 0;
  bytesDone = 0;
  bytesTotal = 0;
  currentPath: string | null = null;
  private readonly started = Date.now();
  private lastEmit = 0;

  constructor(
    private readonly job: JobKind,
    private readonly sink: EventSink | undefined,
  ) {}

  warn(path: string, message: string): void {
    this.sink?.({ type: 'warning', job: this.job, path, message });
  }

  phase(phase: string): void {
    this.sink?.({ type: 'phase', job: this.job, phase });
  }

  /** Emits at most every 200 ms unless `force` (used for the final event). */
  tick(force = false): void {
    if (!this.sink) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < EMIT_EVERY_MS) return;
    this.lastEmit = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = this.bytesDone / seconds;
    const left = Math.max(this.bytesTotal - this.bytesDone, 0);
    this.sink({
      type: 'progress',
      job: this.job,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      currentPath: this.currentPath,
      rate,
      etaSeconds: rate > 0 ? left / rate : null,
    });
  }
}
