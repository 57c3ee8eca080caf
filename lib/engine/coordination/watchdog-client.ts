// The agent's side of the watchdog (watchdog-main.ts): starts it as a process of its own, in a process group of its
// own (a kill of the agent's group leaves it), and feeds it.
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';

export interface WatchdogEvent {
  type: 'ready' | 'killed' | 'exited';
  [key: string]: unknown;
}

export class WatchdogClient {
  private readonly child: ChildProcess;
  /** Resolves once the watchdog is listening. */
  readonly ready: Promise<void>;

  constructor(script: string, onEvent: (event: WatchdogEvent) => void = () => undefined) {
    this.child = spawn(process.execPath, [script], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.unref();
    this.child.stdin!.on('error', () => undefined);
    this.child.once('exit', (code, signal) => onEvent({ type: 'exited', code, signal }));
    let readyNow!: () => void;
    this.ready = new Promise((resolve) => {
      readyNow = resolve;
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (text) => {
      let event: WatchdogEvent;
      try {
        event = JSON.parse(text) as WatchdogEvent;
      } catch {
        return;
      }
      if (event.type === 'ready') readyNow();
      onEvent(event);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Guards the service's process group from now on; `renewed` must follow at once. */
  arm(pgid: number): void {
    this.send({ type: 'arm', pgid });
  }

  /** A renewal of the leader key that succeeded, with the monotonic time its request was sent. */
  renewed(sentNs: bigint, ttlMs: number): void {
    this.send({ type: 'renewed', sentNs: String(sentNs), ttlMs });
  }

  /** The agent stopped the service itself (a clean demotion): nothing to guard. */
  disarm(): void {
    this.send({ type: 'disarm' });
  }

  /** Closes the feed: an armed service stays guarded until its deadline. */
  close(): void {
    this.child.stdin?.end();
  }

  private send(message: Record<string, unknown>): void {
    this.child.stdin?.write(`${JSON.stringify(message)}\n`);
  }
}
