// A throw-away S3 server on 127.0.0.1: Ceph's radosgw over one monitor and one OSD that keeps objects in memory
// (memstore), for the tests and for trying Lifeline's S3 repositories locally. Real S3 semantics: SigV4 checked,
// ranged reads, conditional puts, listings past 1,000 keys, versioning and object lock.
//
//   node scripts/radosgw.mjs start [DIR]   starts one in DIR (default .radosgw/), prints its endpoint and keys
//   node scripts/radosgw.mjs stop [DIR]    stops the daemons started there (by the pids they wrote) and removes DIR
//
// Needs Debian's ceph-mon, ceph-osd, radosgw and ceph-common: installed when run as root, a clear message otherwise.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensurePackages, freePort, killStarted, listening, until } from './local-servers.mjs';

const PACKAGES = ['ceph-mon', 'ceph-osd', 'radosgw', 'ceph-common'];
const BINARIES = ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/radosgw', '/usr/bin/radosgw-admin'];
const START_TIMEOUT_MS = 120_000;

/** Installs the Ceph packages when run as root; otherwise throws, saying how. */
export function ensureCeph() {
  ensurePackages(PACKAGES, BINARIES, 'a local S3 server (radosgw)');
}

/** Starts monitor, OSD and radosgw in `dir`; resolves with the endpoint and an S3 user's keys. */
export async function startRadosgw(dir = '.radosgw') {
  ensureCeph();
  dir = path.resolve(dir);
  // Whatever an earlier start left there is stopped first; whatever this one starts is stopped if it fails.
  stopRadosgw(dir);
  try {
    return await startIn(dir);
  } catch (err) {
    stopRadosgw(dir);
    throw err;
  }
}

async function startIn(dir) {
  for (const sub of ['mon', 'osd', 'run', 'log']) mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o700 });
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  const conf = path.join(dir, 'ceph.conf');
  writeFileSync(
    conf,
    `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms_mon_client_mode = crc
ms_client_mode = crc
ms_mon_cluster_mode = crc
ms_cluster_mode = crc
ms_mon_service_mode = crc
ms_service_mode = crc
run dir = ${dir}/run
pid file = ${dir}/run/$name.pid
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
mon data = ${dir}/mon/$name
osd data = ${dir}/osd/$name
keyring = ${dir}/keyring
osd objectstore = memstore
memstore device bytes = 4294967296
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon_max_pg_per_osd = 1000
osd pool default pg num = 8
osd pool default pgp num = 8
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw dns name = localhost
rgw enable usage log = false
`,
  );
  const ceph = (cmd, args) =>
    execFileSync(cmd, ['-c', conf, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  execFileSync('ceph-authtool', [
    '--create-keyring',
    path.join(dir, 'keyring'),
    '--gen-key',
    '-n',
    'mon.',
    '--cap',
    'mon',
    'allow *',
  ]);
  execFileSync(
    'monmaptool',
    ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, path.join(dir, 'monmap')],
    {
      stdio: 'ignore',
    },
  );
  ceph('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap')]);
  ceph('ceph-mon', ['-i', 'a']);
  await until('the Ceph monitor', () => listening(monPort), START_TIMEOUT_MS);
  const osdUuid = randomUUID();
  const id = ceph('ceph', ['osd', 'new', osdUuid]).trim();
  mkdirSync(path.join(dir, 'osd', `osd.${id}`), { mode: 0o700 });
  ceph('ceph-osd', ['-i', id, '--mkfs', '--osd-uuid', osdUuid]);
  ceph('ceph-osd', ['-i', id]);
  await until('the Ceph OSD', () => /1 up/.test(ceph('ceph', ['osd', 'stat'])), START_TIMEOUT_MS);
  ceph('radosgw', ['-n', 'client.rgw']);
  await until('radosgw', () => listening(rgwPort), START_TIMEOUT_MS);
  const accessKeyId = `LL${randomBytes(9).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  ceph('radosgw-admin', [
    'user',
    'create',
    '--uid=lifeline',
    '--display-name=Lifeline tests',
    `--access-key=${accessKeyId}`,
    `--secret-key=${secretAccessKey}`,
  ]);
  const server = { dir, endpoint: `http://127.0.0.1:${rgwPort}`, accessKeyId, secretAccessKey, region: 'us-east-1' };
  writeFileSync(path.join(dir, 'server.json'), JSON.stringify(server, null, 2), { mode: 0o600 });
  return server;
}

/** Stops the daemons started in `dir`, by the pids they wrote and by the configuration file they were started with
 *  (this directory's own: never a daemon of anyone else), and removes it. */
export function stopRadosgw(dir = '.radosgw') {
  dir = path.resolve(dir);
  const run = path.join(dir, 'run');
  const pids = new Set();
  for (const name of ['client.rgw', 'osd.0', 'mon.a']) {
    const file = path.join(run, `${name}.pid`);
    if (existsSync(file)) pids.add(Number(readFileSync(file, 'utf8').trim()));
  }
  // A daemon whose pid file is gone (a start cut short) is still found by its command line.
  killStarted(path.join(dir, 'ceph.conf'), [...pids]);
  rmSync(dir, { recursive: true, force: true });
}

/** The command line: start or stop, as the header says. */
async function main() {
  const [command, dir] = process.argv.slice(2);
  if (command === 'start') {
    const server = await startRadosgw(dir);
    console.log(JSON.stringify(server, null, 2));
    console.log(
      `\nS3 on ${server.endpoint}. Use it with:\n  export AWS_ACCESS_KEY_ID=${server.accessKeyId} AWS_SECRET_ACCESS_KEY=${server.secretAccessKey}\n  lifeline init --repo s3:${server.endpoint}/my-bucket\nStop it with: node scripts/radosgw.mjs stop${dir ? ` ${dir}` : ''}`,
    );
  } else if (command === 'stop') {
    stopRadosgw(dir);
  } else {
    console.error('usage: node scripts/radosgw.mjs start|stop [DIR]');
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
