// Where a port is listened on, read from the kernel's socket tables (/proc/net/tcp and tcp6): a guarded service
// that listens on every interface (0.0.0.0 or ::) can be reached without the stable endpoint, and so past its
// fencing: a client talking to an old primary directly is not cut off when another node takes over.
import { readFile } from 'node:fs/promises';

/** TCP state 0A: LISTEN. */
const LISTEN = '0A';

/** The addresses (as HOST:PORT) that listen on `port`, in both tables; empty where there is no /proc. */
export async function listeningOn(port: number): Promise<string[]> {
  const found: string[] = [];
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== LISTEN || !local) continue;
      const [hex, portHex] = local.split(':');
      if (Number.parseInt(portHex, 16) !== port) continue;
      found.push(`${v6 ? ipv6(hex) : ipv4(hex)}:${port}`);
    }
  }
  return found;
}

/** The address in /proc/net/tcp's form: four bytes, little-endian. */
function ipv4(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  return [...bytes].reverse().join('.');
}

/** The address in /proc/net/tcp6's form: four 32-bit words, each little-endian. */
function ipv6(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = Buffer.concat(words.map((w) => Buffer.from(w, 'hex').reverse()));
  if (bytes.every((b) => b === 0)) return '[::]';
  const groups = bytes.toString('hex').match(/.{4}/g) ?? [];
  return `[${groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':')}]`;
}

/** What to tell the operator when the service's port is open on every interface; null when it is not. */
export async function exposedWarning(port: number): Promise<string | null> {
  const wide = (await listeningOn(port)).filter((a) => a.startsWith('0.0.0.0:') || a.startsWith('[::]:'));
  if (wide.length === 0) return null;
  return `the service listens on every interface (${wide.join(', ')}): clients can reach it without the stable endpoint, past its fencing; bind it to 127.0.0.1 or the address in the node's config`;
}
