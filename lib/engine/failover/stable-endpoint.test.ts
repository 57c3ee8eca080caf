import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { StableEndpoint } from './stable-endpoint';
import { waitFor } from '@/test/support/wait';

const servers: http.Server[] = [];
const endpoints: StableEndpoint[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A real HTTP server on 127.0.0.1 that answers with its name. */
async function node(name: string): Promise<{ host: string; port: number }> {
  const server = http.createServer((_req, res) => res.end(name));
  // Idle connections stay open: only the endpoint's cut may close them.
  server.keepAliveTimeout = 30_000;
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

async function get(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
  return res.text();
}

describe('stable endpoint', () => {
  it('keeps one address while the primary changes', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const endpoint = new StableEndpoint();
    endpoints.push(endpoint);
    const port = await endpoint.start();
    endpoint.setTarget(a);
    expect(await get(port)).toBe('a');
    endpoint.setTarget(b, { cutExisting: true });
    expect(await get(port)).toBe('b');
  });

  it('holds a request made while there is no primary and serves it once one is set', async () => {
    const b = await node('b');
    const endpoint = new StableEndpoint({ holdMs: 5_000 });
    endpoints.push(endpoint);
    const port = await endpoint.start();
    const pending = get(port);
    await waitFor('the request to be held', () => endpoint.heldConnections > 0, 5000);
    endpoint.setTarget(b);
    expect(await pending).toBe('b');
  });

  it('closes a held connection when no primary comes within the limit', async () => {
    const endpoint = new StableEndpoint({ holdMs: 200 });
    endpoints.push(endpoint);
    const port = await endpoint.start();
    await expect(get(port)).rejects.toThrow();
  });

  it('cuts connections still open to the old primary when told to', async () => {
    const a = await node('a');
    const endpoint = new StableEndpoint();
    endpoints.push(endpoint);
    const port = await endpoint.start();
    endpoint.setTarget(a);
    // A client on a kept-alive connection to the old primary.
    const socket = net.connect(port, '127.0.0.1');
    const answered = new Promise<string>((r) => socket.once('data', (d) => r(d.toString())));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect(await answered).toMatch(/\r\n\r\na$/);
    const closed = new Promise((r) => socket.once('close', r));
    endpoint.setTarget(null, { cutExisting: true });
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('15.3 with a gate, no part of a response reaches the client before the gate lets it through, and every part does, in order, also when the server closes the connection right after its last part', async () => {
    let serverClosed = false;
    const server = http.createServer((req, res) => {
      req.socket.once('close', () => {
        serverClosed = true;
      });
      res.writeHead(200, { connection: 'close', 'content-type': 'text/plain' });
      res.write('part one;');
      setImmediate(() => res.end('part two'));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const target = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
    const held: (() => void)[] = [];
    const endpoint = new StableEndpoint({
      gate: () => new Promise<boolean>((resolve) => held.push(() => resolve(true))),
    });
    endpoints.push(endpoint);
    const port = await endpoint.start();
    endpoint.setTarget(target);

    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString('latin1')));
    const ended = new Promise<void>((resolve) => socket.on('end', () => resolve()));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor('the first part at the gate', () => held.length === 1, 5000);
    // The server has answered and closed its end; the client has nothing yet.
    await waitFor('the server to answer and close', () => serverClosed, 5000);
    expect(received).toBe('');
    // Let each part through as it comes to the gate, until the client sees the end.
    let done = false;
    void ended.then(() => {
      done = true;
    });
    while (!done) {
      await waitFor('a part at the gate, or the end', () => held.length > 0 || done, 5000);
      held.shift()?.();
    }
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n[\s\S]*part one;[\s\S]*part two[\s\S]*$/);
  });
});
