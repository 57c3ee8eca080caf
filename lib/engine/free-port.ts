// A port nothing listens on right now, for a server that is about to start on it (drills, the demo cluster,
// tests). Picked at random below the kernel's range for the local ports of outgoing connections: a port the
// kernel hands out for listening (port 0) comes from that range, and any outgoing connection made before the
// server binds it may take it.
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** The lowest port picked: well above the ports of system services. */
const FLOOR = 10_000;
const ATTEMPTS = 50;

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const ceiling = ephemeralLow();
  if (ceiling - FLOOR >= 1000)
    for (let i = 0; i < ATTEMPTS; i++) {
      const port = FLOOR + Math.floor(Math.random() * (ceiling - FLOOR));
      if (await listens(port, host)) return port;
    }
  return kernelPort(host);
}

/** The first port of the kernel's range for outgoing connections (32768 where it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether a server can listen on `port` now (it is closed again at once). */
function listens(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

async function kernelPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
