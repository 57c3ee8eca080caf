import { readFileSync } from 'node:fs';
import net from 'node:net';

import { describe, expect, it } from 'vitest';

import { freePort } from './free-port';

describe('a free port for a server about to start', () => {
  it('lies below the kernel’s range for outgoing connections, so none of them can take it first, and a server listens on it', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) expect({ port, below: port < low && port >= 10_000 }).toEqual({ port, below: true });
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise((r) => server.close(r));
  });
});
