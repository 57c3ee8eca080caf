// Health probes and failure detection: a node is marked down after a threshold of consecutive failed probes,
// so one slow or dropped request (a flapping service) never triggers a failover.
import net from 'node:net';

export interface ProbeResult {
  ok: boolean;
  at: number;
  latencyMs: number;
  error?: string;
}

/** GETs a URL; a 2xx within the timeout is healthy, anything else (status, timeout, refused) is not. */
export async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const at = Date.now();
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close' } });
    await res.arrayBuffer();
    const latencyMs = performance.now() - started;
    return res.ok ? { ok: true, at, latencyMs } : { ok: false, at, latencyMs, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return {
      ok: false,
      at,
      latencyMs: performance.now() - started,
      error: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message),
    };
  }
}

/** Connects to a TCP port; accepted within the timeout is healthy. */
export function probeTcp(target: { host: string; port: number }, timeoutMs: number): Promise<ProbeResult> {
  const at = Date.now();
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(target.port, target.host);
    const done = (error?: string) => {
      socket.destroy();
      resolve({ ok: !error, at, latencyMs: performance.now() - started, ...(error ? { error } : {}) });
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done());
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

export type NodeState = 'unknown' | 'up' | 'down';

export interface DetectorOptions {
  /** Consecutive failures that mark a node down. */
  downAfter: number;
  /** Consecutive successes that mark it up again. */
  upAfter: number;
}

export const DEFAULT_DETECTOR: DetectorOptions = { downAfter: 3, upAfter: 2 };

/** Turns a stream of probe results into up/down transitions. */
export class FailureDetector {
  state: NodeState = 'unknown';
  private failures = 0;
  private successes = 0;
  /** When the first failure of the current run of failures was seen: the moment the outage began. */
  failingSince: number | null = null;

  constructor(private readonly options: DetectorOptions = DEFAULT_DETECTOR) {}

  /** Records a probe; returns the new state when it changed, else null. */
  record(result: ProbeResult): NodeState | null {
    if (result.ok) {
      this.failures = 0;
      this.failingSince = null;
      this.successes++;
      if (this.state !== 'up' && (this.state === 'unknown' || this.successes >= this.options.upAfter))
        return this.become('up');
    } else {
      this.successes = 0;
      this.failingSince ??= result.at;
      this.failures++;
      if (this.state !== 'down' && this.failures >= this.options.downAfter) return this.become('down');
    }
    return null;
  }

  private become(state: NodeState): NodeState {
    this.state = state;
    return state;
  }
}
