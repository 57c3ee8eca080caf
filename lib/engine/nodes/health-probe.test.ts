import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { FailureDetector, probeHttp, type ProbeResult } from './health-probe';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A real service on 127.0.0.1 whose answers the test decides. */
async function service(answer: (res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((_req, res) => answer(res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

const result = (ok: boolean, at = 0): ProbeResult => ({ ok, at, latencyMs: 1 });

describe('health probes', () => {
  it('a 2xx is healthy; an error status, a hang past the timeout or a refused connection is not', async () => {
    expect((await probeHttp(await service((res) => res.end('ok')), 1000)).ok).toBe(true);
    expect(await probeHttp(await service((res) => res.writeHead(503).end()), 1000)).toMatchObject({
      ok: false,
      error: 'HTTP 503',
    });
    expect(await probeHttp(await service(() => undefined), 200)).toMatchObject({
      ok: false,
      error: 'no answer within 200 ms',
    });
    const closed = await service((res) => res.end());
    await new Promise((r) => servers.pop()!.close(r));
    expect(await probeHttp(closed, 1000)).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
  });
});

describe('failure detection', () => {
  it('a flapping service, failing less often than the threshold in a row, is never marked down', () => {
    const detector = new FailureDetector({ downAfter: 3, upAfter: 2 });
    const changes = [true, false, false, true, false, true, false, false, true, true].map((ok, i) =>
      detector.record(result(ok, i)),
    );
    expect(changes.filter((c) => c === 'down')).toEqual([]);
    expect(detector.state).toBe('up');
  });

  it('is marked down at the threshold, remembers when the outage began, and comes back after enough successes', () => {
    const detector = new FailureDetector({ downAfter: 3, upAfter: 2 });
    expect(detector.record(result(true, 0))).toBe('up');
    expect(detector.record(result(false, 10))).toBeNull();
    expect(detector.record(result(false, 20))).toBeNull();
    expect(detector.record(result(false, 30))).toBe('down');
    expect(detector.failingSince).toBe(10);
    expect(detector.record(result(true, 40))).toBeNull();
    expect(detector.record(result(true, 50))).toBe('up');
    expect(detector.failingSince).toBeNull();
  });
});
