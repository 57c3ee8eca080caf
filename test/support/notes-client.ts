// The demo notes service's API as a client uses it, with no test runner in it (the benchmarks use it too).

/** A request to `url` + `path` that gives up after a second; null when it got no answer. */
export async function through(url: string, path: string, init?: RequestInit): Promise<Response | null> {
  try {
    const res = await fetch(url + path, { ...init, signal: AbortSignal.timeout(1000) });
    return res;
  } catch {
    return null;
  }
}

/** Write `seq` through `url` (the notes service's API): true once the service acknowledged it. */
export async function write(url: string, seq: number): Promise<boolean> {
  const res = await through(url, '/writes', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seq }),
  });
  await res?.arrayBuffer();
  return res?.status === 201;
}
