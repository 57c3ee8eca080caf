// A throw-away etcd on 127.0.0.1 (Debian's etcd-server), one member or a cluster of several, for the tests, the
// chaos trials and for trying failover coordination locally. Each member listens on free loopback ports and keeps
// its data in DIR; a member can be killed and started again to play the loss of a machine.
//
//   node scripts/etcd.mjs start [DIR] [--members N]   starts N members (default 1) in DIR (default .etcd/)
//   node scripts/etcd.mjs stop [DIR]                   stops every member started there and removes DIR
//
// Needs Debian's etcd-server: installed when run as root, a clear message otherwise.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensurePackages, freePort, killStarted, until } from './local-servers.mjs';

const ETCD = '/usr/bin/etcd';
const START_TIMEOUT_MS = 30_000;

export function ensureEtcd() {
  ensurePackages(['etcd-server'], [ETCD], 'a local etcd (etcd-server)');
}

/** Whether the member answers its health endpoint as healthy (it is part of a cluster with a leader). */
async function healthy(clientUrl) {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok && (await res.json()).health === 'true';
  } catch {
    return false;
  }
}

function startMember(dir, member, cluster, state) {
  const log = openSync(path.join(dir, `${member.name}.log`), 'a');
  const child = spawn(
    ETCD,
    [
      '--name',
      member.name,
      '--data-dir',
      member.dataDir,
      '--listen-client-urls',
      member.clientUrl,
      '--advertise-client-urls',
      member.clientUrl,
      '--listen-peer-urls',
      member.peerUrl,
      '--initial-advertise-peer-urls',
      member.peerUrl,
      '--initial-cluster',
      cluster,
      '--initial-cluster-state',
      state,
      '--initial-cluster-token',
      path.basename(dir),
      // Loopback: elections in about a second, as a LAN would allow.
      '--heartbeat-interval',
      '100',
      '--election-timeout',
      '1000',
      '--logger',
      'zap',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  writeFileSync(path.join(dir, `${member.name}.pid`), String(child.pid));
  return child.pid;
}

/** Starts `members` members in `dir`; resolves with their client URLs once the cluster is healthy. */
/** Whether process `pid` still runs (a zombie, killed and not yet reaped, does not). */
function runs(pid) {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The end of a member's log, for an error that says why it did not start. */
function logTail(dir, member) {
  try {
    return readFileSync(path.join(dir, `${member.name}.log`), 'utf8')
      .trim()
      .split('\n')
      .slice(-3)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until every member is healthy; a member that exited meanwhile ends the wait at once, with its log's end. */
async function untilHealthy(dir, list) {
  for (const m of list)
    await until(
      `etcd member ${m.name}`,
      async () => {
        if (!runs(m.pid)) throw new Error(`etcd member ${m.name} exited: ${logTail(dir, m)}`);
        return healthy(m.clientUrl);
      },
      START_TIMEOUT_MS,
    );
}

export async function startEtcd(dir = '.etcd', members = 1) {
  ensureEtcd();
  dir = path.resolve(dir);
  // A port found free can be taken by another process before etcd binds it (tests start servers side by side):
  // a member that exits at once is started again, on new ports.
  for (let attempt = 1; ; attempt++) {
    stopEtcd(dir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const list = [];
    for (let i = 0; i < members; i++) {
      const name = `m${i}`;
      list.push({
        name,
        dataDir: path.join(dir, name),
        clientUrl: `http://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
      });
    }
    const cluster = list.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    try {
      for (const m of list) m.pid = startMember(dir, m, cluster, 'new');
      await untilHealthy(dir, list);
    } catch (err) {
      stopEtcd(dir);
      if (attempt < 3 && /exited/.test(err.message)) continue;
      throw err;
    }
    const server = { dir, cluster, endpoints: list.map((m) => m.clientUrl), members: list };
    writeFileSync(path.join(dir, 'server.json'), JSON.stringify(server, null, 2));
    return server;
  }
}

/** Kills one member (SIGKILL: the loss of its machine); its data stays for `restartMember`. */
export function killMember(server, name) {
  const member = server.members.find((m) => m.name === name);
  if (!member) throw new Error(`no etcd member ${name}`);
  try {
    process.kill(member.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Starts a killed member again on its data; resolves once it is healthy. */
export async function restartMember(server, name) {
  const member = server.members.find((m) => m.name === name);
  if (!member) throw new Error(`no etcd member ${name}`);
  member.pid = startMember(server.dir, member, server.cluster, 'existing');
  writeFileSync(path.join(server.dir, 'server.json'), JSON.stringify(server, null, 2));
  await untilHealthy(server.dir, [member]);
}

/** Stops every member started in `dir` (by pid file, and by its data directory on the command line) and removes
 *  the directory. */
export function stopEtcd(dir = '.etcd') {
  dir = path.resolve(dir);
  const file = path.join(dir, 'server.json');
  const pids = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).members.map((m) => m.pid) : [];
  for (let i = 0; i < 9; i++) killStarted(path.join(dir, `m${i}`), pids);
  rmSync(dir, { recursive: true, force: true });
}

async function main() {
  const args = process.argv.slice(2);
  const command = args[0];
  const at = args.indexOf('--members');
  const members = at === -1 ? 1 : Number(args[at + 1]);
  const dir = args.slice(1).find((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--members');
  if (command === 'start' && Number.isInteger(members) && members >= 1 && members <= 9) {
    const server = await startEtcd(dir, members);
    console.log(JSON.stringify({ endpoints: server.endpoints }, null, 2));
    console.log(
      `\netcd on ${server.endpoints.join(',')}. Try it with:\n  ETCDCTL_API=3 etcdctl --endpoints=${server.endpoints.join(',')} endpoint status\nStop it with: node scripts/etcd.mjs stop${dir ? ` ${dir}` : ''}`,
    );
  } else if (command === 'stop') {
    stopEtcd(dir);
  } else {
    console.error('usage: node scripts/etcd.mjs start [DIR] [--members N (1-9)] | stop [DIR]');
    process.exit(2);
  }
}

// Run as a command, not when imported (without a top-level await, so that CommonJS loaders can import it).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
