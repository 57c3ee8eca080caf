// 13.6: the stable endpoint as its own process (`lifeline endpoint --route FILE`): a new route to the same primary
// keeps the connections open through it; a route to another primary cuts them (fencing at the door), and new
// connections go to the new one.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

import { afterEach, describe, expect, it } from 'vitest';

import { writeRoute } from '@/lib/engine/failover/route-file';
import { freePort } from '@/lib/engine/free-port';

import { CLI, tempDir } from './helpers';
import { exitOf, waitFor } from './support/wait';

/** A TCP service that answers each line with its name and the line. */
async function echo(name: string): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((socket) => {
    socket.on('data', (d) => socket.write(`${name}:${d}`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** Sends `text` on `socket` and resolves with the answer. */
function ask(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (d) => resolve(String(d)));
    socket.once('error', reject);
    socket.write(text);
  });
}

const started: ChildProcess[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const child of started.splice(0)) {
    child.kill('SIGTERM');
    await waitFor('the endpoint to exit', exitOf(child), 10_000);
  }
  for (const s of servers.splice(0)) s.close();
});

describe('13.6 the endpoint’s routes', () => {
  it('13.6 a route change to the same primary keeps its connections; one to another primary cuts them', async () => {
    const [a, b] = [await echo('a'), await echo('b')];
    servers.push(a.server, b.server);
    const file = path.join(tempDir('endpoint-routes'), 'route.json');
    await writeRoute(file, { host: '127.0.0.1', port: a.port });
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [CLI, 'endpoint', '--listen', `127.0.0.1:${port}`, '--route', file, '--json'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, LIFELINE_EXIT_WITH_PARENT: String(process.pid) },
      },
    );
    started.push(child);
    const routes: { version: number; kept: boolean }[] = [];
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { type: string; version: number; kept: boolean };
      if (msg.type === 'route') routes.push(msg);
    });
    await waitFor('the first route', () => routes.length === 1, 10_000);
    const client = net.connect(port, '127.0.0.1');
    let closed = false;
    client.on('close', () => {
      closed = true;
    });
    expect(await ask(client, 'one')).toBe('a:one');
    // The same primary again (a new epoch, say): the connection stays.
    await writeRoute(file, { host: '127.0.0.1', port: a.port });
    await waitFor('the second route', () => routes.length === 2, 10_000);
    expect(routes[1].kept).toBe(true);
    expect(await ask(client, 'two')).toBe('a:two');
    expect(closed).toBe(false);
    // Another primary: the open connection is cut, a new one reaches it.
    await writeRoute(file, { host: '127.0.0.1', port: b.port });
    // The cut and the endpoint's line about it come in either order.
    await waitFor('the connection to the old primary to be cut', () => closed, 10_000);
    await waitFor('the third route', () => routes.length === 3, 10_000);
    expect(routes[2].kept).toBe(false);
    const next = net.connect(port, '127.0.0.1');
    expect(await ask(next, 'three')).toBe('b:three');
    next.destroy();
  }, 30_000);
});
