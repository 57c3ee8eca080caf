import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { exposedWarning, listeningOn } from './listen-check';

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function listen(host: string): Promise<number> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as net.AddressInfo).port;
}

describe('where a port is listened on', () => {
  it('14.4 a port on loopback is found there, and is not exposed', async () => {
    const port = await listen('127.0.0.1');
    expect(await listeningOn(port)).toEqual([`127.0.0.1:${port}`]);
    expect(await exposedWarning(port)).toBeNull();
  });

  it('14.4 a port on every interface (IPv4 or IPv6) is exposed, and the warning says how to fix it', async () => {
    const v4 = await listen('0.0.0.0');
    expect(await listeningOn(v4)).toEqual([`0.0.0.0:${v4}`]);
    expect(await exposedWarning(v4)).toMatch(/every interface \(0\.0\.0\.0:\d+\).*bind it to 127\.0\.0\.1/);
    const v6 = await listen('::');
    expect(await listeningOn(v6)).toContain(`[::]:${v6}`);
    expect(await exposedWarning(v6)).toMatch(/\[::\]/);
  });

  it('14.4 a port nobody listens on is found nowhere', async () => {
    const port = await listen('127.0.0.1');
    for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
    expect(await listeningOn(port)).toEqual([]);
  });
});
