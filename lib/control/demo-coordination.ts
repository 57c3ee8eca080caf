// Where the demo's failover group coordinates: on one real etcd member where Debian's etcd-server is installed,
// else on the embedded store (`lifeline store`, for one machine). Either runs detached beside the demo's agents,
// with its state under <data>/coordination (not under <data>/demo, which the demo's backup plan copies: no password
// hashes in backups, no live database copied raw), so that a dashboard restart leaves it running; on first start
// it becomes the
// etcd settings (with authentication and a root password of its own), and the demo group moves there with no
// failover. LIFELINE_DEMO_COORDINATION picks `etcd` or `store`, or keeps the demo on the dashboard's own
// coordinator (`dashboard`). Settings an admin made (an etcd elsewhere) are used as they are.
import 'server-only';

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { dataDir } from '../config';
import { DEFAULT_ETCD_ROOT } from '../engine/coordination/group-keys';
import { freePort } from '../engine/free-port';
import { probeTcp } from '../engine/nodes/health-probe';
import { daemonPid, ensureDaemon } from './daemons';
import { etcdControl, saveEtcdSettings } from './etcd';
import { getSetting, setSetting } from './settings';

const ETCD = '/usr/bin/etcd';
/** What the demo starts (DemoStore), saved before it first starts: a first start cut short is taken up again on
 *  the same ports with the same root password. */
const DEMO_STORE_SETTING = 'demo.coordination';
const READY_TIMEOUT_MS = 30_000;

export type DemoCoordination = 'etcd' | 'store' | 'dashboard';

interface DemoStore {
  kind: 'etcd' | 'store';
  port: number;
  /** etcd's peer port (unused by the embedded store). */
  peerPort: number;
  /** Whether it is the etcd settings yet (authentication on, the probe passed). */
  configured: boolean;
}

/** The demo store's root password, made once (mode 0600). */
function rootPassword(): string {
  const dir = path.join(dataDir(), 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'demo-coordination-root.password');
  if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o600 });
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8');
}

/** What the demo coordinates on: as LIFELINE_DEMO_COORDINATION says, else etcd where it is installed. */
export function demoCoordination(): DemoCoordination {
  const asked = process.env.LIFELINE_DEMO_COORDINATION;
  if (asked === 'etcd' || asked === 'store' || asked === 'dashboard') return asked;
  return existsSync(ETCD) ? 'etcd' : 'store';
}

const url = (store: DemoStore) => `http://127.0.0.1:${store.port}`;

/** Starts the demo's store (unless it runs) and, the first time, saves it as the etcd settings. False when the
 *  demo stays on the dashboard's coordinator. */
export async function ensureDemoStore(): Promise<boolean> {
  const kind = demoCoordination();
  if (kind === 'dashboard') return false;
  const own = getSetting(DEMO_STORE_SETTING);
  // An admin's etcd: the demo group moves there like any other.
  if (etcdControl() && !own) return true;
  // Once made, the same kind on the same ports: the group's keys and tokens live there.
  const store: DemoStore = own
    ? (JSON.parse(own) as DemoStore)
    : {
        kind: kind === 'etcd' && existsSync(ETCD) ? 'etcd' : 'store',
        port: await freePort(),
        peerPort: await freePort(),
        configured: false,
      };
  if (!own) setSetting(DEMO_STORE_SETTING, JSON.stringify(store));
  startDaemon(store);
  await ready(store);
  if (!store.configured) {
    const saved = await saveEtcdSettings({
      endpoints: [url(store)],
      root: DEFAULT_ETCD_ROOT,
      rootPassword: rootPassword(),
    });
    if (!saved.ok) throw new Error(`the demo's ${store.kind === 'etcd' ? 'etcd member' : 'store'}: ${saved.error}`);
    setSetting(DEMO_STORE_SETTING, JSON.stringify({ ...store, configured: true }));
  }
  return true;
}

function startDaemon(store: DemoStore): void {
  const dir = path.join(dataDir(), 'coordination', store.kind === 'etcd' ? 'etcd' : 'store');
  if (store.kind === 'store') {
    ensureDaemon('demo-store', ['store', '--dir', dir, '--listen', `127.0.0.1:${store.port}`]);
    return;
  }
  if (daemonPid('demo-etcd', ETCD)) return;
  const peer = `http://127.0.0.1:${store.peerPort}`;
  // One member on loopback; with data in its directory, etcd ignores the initial-cluster flags.
  ensureDaemon(
    'demo-etcd',
    [
      '--name',
      'demo',
      '--data-dir',
      dir,
      '--listen-client-urls',
      url(store),
      '--advertise-client-urls',
      url(store),
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `demo=${peer}`,
      '--initial-cluster-state',
      'new',
      '--logger',
      'zap',
      // The members renew and publish every few seconds: keep the last thousand revisions, not every one.
      '--auto-compaction-mode',
      'revision',
      '--auto-compaction-retention',
      '1000',
    ],
    ETCD,
  );
}

/** Waits until the store answers: etcd's health endpoint says it has a leader; the embedded store listens. */
async function ready(store: DemoStore): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      if (store.kind === 'etcd') {
        const res = await fetch(`${url(store)}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok && ((await res.json()) as { health: string }).health === 'true') return;
      } else if (daemonPid('demo-store') && (await probeTcp({ host: '127.0.0.1', port: store.port }, 1000)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `the demo's ${store.kind === 'etcd' ? 'etcd member' : 'store'} did not start on ${url(store)} (is the port taken? see ${path.join(dataDir(), 'run')})`,
  );
}
