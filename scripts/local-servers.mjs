// What the scripts that start throw-away servers for the tests share (radosgw.mjs, etcd.mjs): Debian packages
// installed when run as root (a clear message otherwise), free loopback ports, waiting for a port or a state, and
// stopping what a directory's servers left behind.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

/** Installs Debian `packages` when run as root unless every one of `binaries` is there; otherwise throws `hint`. */
export function ensurePackages(packages, binaries, what) {
  if (binaries.every((b) => existsSync(b))) return;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`installing Debian's ${packages.join(', ')} for ${what}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
    if (binaries.every((b) => existsSync(b))) return;
  }
  throw new Error(
    `the tests need ${what}: install it with: sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`,
  );
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 200 ms until it answers true; throws naming `what` after `timeoutMs`. */
export async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Kills (SIGKILL) the processes whose command line holds `marker` (a path of the caller's own directory, so never
 *  anyone else's), and the given pids. */
export function killStarted(marker, pids = []) {
  const all = new Set(pids);
  for (const entry of existsSync('/proc') ? readdirSync('/proc') : []) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(marker)) all.add(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  for (const pid of all) {
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
