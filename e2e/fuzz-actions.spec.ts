// 10.6, for server actions: every action in the built app's manifest (.next/server/server-reference-manifest.json)
// is called the way the browser calls it (a POST with its id in `Next-Action` and its arguments in React's reply
// encoding, made by React's own encoder), signed in as an administrator, with hostile input: NUL, 100 kB, `../`,
// shell text, negative and huge numbers, a cron with seconds, an unknown time zone; as every field at once, one field
// at a time beside a form the server must refuse for a reason of state (an id that names nothing, a name taken), and
// in shapes no form sends (a string for the form, no argument, an array). Each is answered below 500 with a clear
// refusal, never the server's "something went wrong", and nothing a user depends on changes. An action of the app
// that has no case here fails the test.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { expect, test } from './support/app';
import { domainState } from './support/domain-state';
import { hostileText } from './support/hostile';
import { ADMIN, SEEDED_ADMIN, signIn } from './support/steps';

test.use({ serverEnv: SEEDED_ADMIN });
// Some three thousand calls.
test.describe.configure({ timeout: 480_000 });

// React's reply encoder, the one the browser uses to call an action (no types are published for this entry).
const { encodeReply } = createRequire(__filename)('next/dist/compiled/react-server-dom-webpack/client.node.js') as {
  encodeReply: (args: unknown[]) => Promise<string | FormData>;
};

const marker = mkdtempSync(path.join(os.tmpdir(), 'lifeline-fuzz-'));
const PWNED = path.join(marker, 'pwned');
test.afterAll(() => rmSync(marker, { recursive: true, force: true }));

const HOSTILE: unknown[] = hostileText(PWNED);
/** For actions that take values rather than forms, wrong types too. */
const HOSTILE_VALUES: unknown[] = [...HOSTILE, -1, 2 ** 64, Number.POSITIVE_INFINITY, Number.NaN, null, true, [], {}];

const NO_ID = '999999';
const NO_GROUP = 'group-000000000000';
const NO_NODE = 'node-000000000000';
const NO_SNAPSHOT = '0'.repeat(64);
const POLICY = {
  excludes: '',
  schedule: '0 * * * *',
  timezone: '',
  rpoTargetMinutes: '60',
  keepLast: '0',
  keepDaily: '0',
  preCommand: '',
  postCommand: '',
  commandTimeoutSeconds: '60',
  copyRepositoryId: '',
  copySchedule: '',
};

/**
 * How each action is called. `form`: a form (useActionState's previous state and FormData) the server must refuse
 * for a reason of state, `refusedBy` its field that makes it so (not made hostile alone: that would make it valid).
 * `value`: the same for an action called with one value. `none`: an action without input, which takes none from
 * a request either.
 */
type Case =
  | { form: Record<string, string>; refusedBy: string | null }
  | { value: Record<string, unknown>; refusedBy: string }
  | { none: true };

const RESTORE = {
  sourceId: Number(NO_ID),
  snapshot: NO_SNAPSHOT,
  include: ['/'],
  where: 'elsewhere',
  target: path.join(marker, 'target'),
};

const CASES: Record<string, Case> = {
  'app/(app)/actions.ts#signOut': { none: true },
  'app/(app)/backups/actions.ts#backUpNow': { form: { sourceId: NO_ID }, refusedBy: 'sourceId' },
  'app/(app)/backups/actions.ts#cancel': { form: { jobId: NO_ID }, refusedBy: 'jobId' },
  'app/(app)/backups/actions.ts#dismissAnomaly': { form: { id: NO_ID, confirm: 'fuzz' }, refusedBy: 'id' },
  'app/(app)/backups/actions.ts#backUpPlanNow': { form: { planId: NO_ID }, refusedBy: 'planId' },
  'app/(app)/backups/actions.ts#updatePlan': { form: { planId: NO_ID, ...POLICY }, refusedBy: 'planId' },
  'app/(app)/backups/actions.ts#addSource': {
    form: { name: 'fuzz-source', kind: 'directory', plan: 'new', path: path.join(marker, 'absent'), ...POLICY },
    refusedBy: 'path',
  },
  'app/(app)/backups/actions.ts#removeSource': { form: { id: NO_ID, confirm: 'fuzz' }, refusedBy: 'id' },
  'app/(app)/backups/actions.ts#removePlan': { form: { id: NO_ID, confirm: 'fuzz' }, refusedBy: 'id' },
  'app/(app)/nodes/actions.ts#switchOver': { form: { groupId: NO_GROUP, nodeId: NO_NODE }, refusedBy: 'groupId' },
  'app/(app)/nodes/actions.ts#toggleMaintenance': { form: { groupId: NO_GROUP, on: '1' }, refusedBy: 'groupId' },
  'app/(app)/nodes/actions.ts#drillNow': { form: { groupId: NO_GROUP }, refusedBy: 'groupId' },
  // Without the demo there is no demo primary to fail.
  'app/(app)/nodes/actions.ts#failPrimary': { none: true },
  'app/(app)/nodes/actions.ts#registerNodeAction': {
    form: { name: 'local', agentUrl: 'http://127.0.0.1:9', serviceHost: '127.0.0.1', servicePort: '8080' },
    refusedBy: 'name',
  },
  'app/(app)/nodes/actions.ts#rotateCredentials': { form: { nodeId: NO_NODE }, refusedBy: 'nodeId' },
  'app/(app)/nodes/actions.ts#setQuota': {
    form: { nodeId: NO_NODE, gib: '', objects: '', requestsPerMinute: '' },
    refusedBy: 'nodeId',
  },
  'app/(app)/nodes/actions.ts#createGroup': {
    form: {
      name: 'fuzz-group',
      endpoint: '127.0.0.1:1',
      shippingSeconds: '5',
      members: `${NO_NODE},node-000000000001`,
    },
    refusedBy: 'members',
  },
  'app/(app)/nodes/actions.ts#setDrillSchedule': { form: { groupId: NO_GROUP, schedule: '' }, refusedBy: 'groupId' },
  'app/(app)/nodes/actions.ts#removeGroup': { form: { groupId: NO_GROUP, confirm: 'fuzz' }, refusedBy: 'groupId' },
  'app/(app)/nodes/actions.ts#removeNode': { form: { nodeId: NO_NODE, confirm: 'fuzz' }, refusedBy: 'nodeId' },
  'app/(app)/nodes/actions.ts#deleteKeptData': {
    form: { nodeId: NO_NODE, name: '2026-12-03T00-00-00-000Z-epoch-1', confirm: 'fuzz' },
    refusedBy: 'nodeId',
  },
  'app/(app)/nodes/actions.ts#moveToEtcd': { form: { groupId: NO_GROUP }, refusedBy: 'groupId' },
  'app/(app)/nodes/actions.ts#setGroupTimings': {
    form: {
      groupId: NO_GROUP,
      ttlSeconds: '9',
      renewSeconds: '3',
      downAfter: '3',
      probeSeconds: '1',
      maxLagSeconds: '10',
    },
    refusedBy: 'groupId',
  },
  'app/(app)/nodes/actions.ts#setGroupReplication': {
    form: {
      groupId: NO_GROUP,
      replication: 'log',
      baseIntervalHours: '6',
      synchronous: 'on',
      synchronousTimeoutSeconds: '2',
    },
    refusedBy: 'groupId',
  },
  'app/(app)/nodes/actions.ts#forceFailoverTo': {
    form: { groupId: NO_GROUP, nodeId: NO_NODE, confirm: 'fuzz' },
    refusedBy: 'groupId',
  },
  // Nothing listens on port 1: the settings are tried, refused, and not kept.
  'app/(app)/settings/coordination/actions.ts#saveCoordination': {
    form: { endpoints: 'http://127.0.0.1:1', root: '/lifeline/', rootPassword: '' },
    refusedBy: 'endpoints',
  },
  // With no etcd set up, forgetting it changes nothing; it takes nothing from the request.
  'app/(app)/settings/coordination/actions.ts#forgetCoordination': { none: true },
  'app/(app)/restore/actions.ts#browse': { value: { snapshot: NO_SNAPSHOT, path: '/' }, refusedBy: 'snapshot' },
  'app/(app)/restore/actions.ts#preview': { value: RESTORE, refusedBy: 'snapshot' },
  'app/(app)/restore/actions.ts#startRestore': { value: { ...RESTORE, confirm: '' }, refusedBy: 'snapshot' },
  'app/(app)/settings/account/actions.ts#changeOwnPassword': {
    form: { current: 'not the password', password: 'a new password', confirm: 'a new password' },
    refusedBy: 'current',
  },
  'app/(app)/settings/account/actions.ts#revokeOwnSession': {
    form: { session: '0000000000000000' },
    refusedBy: 'session',
  },
  'app/(app)/settings/notifications/actions.ts#sendTest': { form: { channelId: NO_ID }, refusedBy: 'channelId' },
  'app/(app)/settings/notifications/actions.ts#addEmail': { form: { address: 'not an address' }, refusedBy: 'address' },
  'app/(app)/settings/notifications/actions.ts#addWebhook': {
    form: { url: 'not a url', allowPrivate: 'on' },
    refusedBy: 'url',
  },
  'app/(app)/settings/notifications/actions.ts#removeChannel': { form: { channelId: NO_ID }, refusedBy: 'channelId' },
  // Acknowledging the recovery kit is a setting, not domain state; it takes nothing from the request.
  'app/(app)/settings/recovery-kit/actions.ts#acknowledge': { none: true },
  'app/(app)/settings/repository/actions.ts#attach': {
    form: { location: path.join(marker, 'no-repository'), passphrase: 'fuzz' },
    refusedBy: 'location',
  },
  'app/(app)/settings/repository/actions.ts#addCopyTarget': {
    form: { name: 'fuzz-copy', location: path.join(marker, 'no-repository-for-copies'), passphrase: 'fuzz' },
    refusedBy: 'location',
  },
  'app/(app)/settings/repository/actions.ts#verifyNow': {
    form: { location: path.join(marker, 'another-repository'), readDataPercent: '10' },
    refusedBy: 'location',
  },
  'app/(app)/settings/repository/actions.ts#pruneNow': {
    form: { location: path.join(marker, 'another-repository') },
    refusedBy: 'location',
  },
  'app/(app)/settings/repository/actions.ts#removeCopyTarget': {
    form: { id: NO_ID, confirm: 'fuzz' },
    refusedBy: 'id',
  },
  // A token is a setting, not domain state; making one takes nothing from the request.
  'app/(app)/settings/metrics/actions.ts#makeToken': { none: true },
  'app/(app)/settings/metrics/actions.ts#revokeToken': { form: { confirm: 'not metrics' }, refusedBy: 'confirm' },
  // Statistics are read from the repository, and written to no table a user's state is in.
  'app/(app)/statistics/actions.ts#sampleStatsNow': { none: true },
  'app/(app)/settings/users/actions.ts#addUser': {
    form: { username: 'ADMIN', password: 'a long password', role: 'viewer' },
    refusedBy: 'username',
  },
  'app/(app)/settings/users/actions.ts#changeUserRole': {
    form: { username: 'nobody-here', role: 'viewer' },
    refusedBy: 'username',
  },
  'app/(app)/settings/users/actions.ts#resetUserPassword': {
    form: { username: 'nobody-here', password: 'a long password' },
    refusedBy: 'username',
  },
  'app/(app)/settings/users/actions.ts#setUserDisabled': {
    form: { username: 'nobody-here', disabled: 'yes' },
    refusedBy: 'username',
  },
  'app/(app)/settings/users/actions.ts#removeUser': {
    form: { username: 'nobody-here', confirm: 'nobody-here' },
    refusedBy: 'username',
  },
  'app/(app)/settings/users/actions.ts#revokeUserSession': {
    form: { username: 'nobody-here', session: '0000000000000000' },
    refusedBy: 'username',
  },
  'app/login/actions.ts#signIn': {
    form: { username: ADMIN.username, password: 'not the password' },
    refusedBy: 'password',
  },
  // Set up already: refused whatever the form says.
  'app/setup/actions.ts#createAdmin': {
    form: { username: 'fuzz-admin', password: 'a long password', confirm: 'a long password' },
    refusedBy: null,
  },
};

interface Action {
  id: string;
  key: string;
  /** A page the action is bound to, where the browser would post it. */
  page: string;
}

/** The built app's server actions, each with a page to post it to. */
function manifestActions(): Action[] {
  const manifest = createRequire(__filename)(
    path.join(process.cwd(), '.next', 'server', 'server-reference-manifest.json'),
  ) as { node: Record<string, { workers: Record<string, unknown>; filename: string; exportedName: string }> };
  return Object.entries(manifest.node).map(([id, a]) => {
    const pages = Object.keys(a.workers).map(
      (w) =>
        w
          .replace(/^app/, '')
          .replace(/\/page$/, '')
          .replace(/\/\([^)]*\)/g, '')
          .replace(/\[[^\]]+\]/g, NO_ID) || '/',
    );
    return { id, key: `${a.filename}#${a.exportedName}`, page: pages.find((p) => !p.includes(NO_ID)) ?? pages[0] };
  });
}

function formData(fields: Record<string, unknown>): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, String(v));
  return form;
}

/** Every call of an action its case makes: hostile input in every shape. */
function* calls(c: Case): Generator<unknown[]> {
  const shapes = HOSTILE.flatMap((v) => [[v], [null, v], [null, [v]]]);
  yield [];
  yield* shapes;
  if ('none' in c) return;
  if ('form' in c) {
    for (const v of HOSTILE) {
      yield [null, formData(Object.fromEntries(Object.keys(c.form).map((k) => [k, v])))];
      for (const field of Object.keys(c.form))
        if (field !== c.refusedBy) yield [null, formData({ ...c.form, [field]: v })];
    }
    yield [null, formData({})];
    return;
  }
  for (const v of HOSTILE_VALUES) {
    yield [Object.fromEntries(Object.keys(c.value).map((k) => [k, v]))];
    for (const field of Object.keys(c.value)) if (field !== c.refusedBy) yield [{ ...c.value, [field]: v }];
    yield [{ ...c.value, include: [v] }];
  }
}

// First: the fuzz below tries wrong passwords at sign-in, and the throttle then keeps this address out a while.
test('10.6 a call to an action id the app does not have, or with a body that is no reply, is refused below 500', async ({
  page,
  app,
}) => {
  await signIn(page);
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const action = manifestActions().find((a) => a.key.endsWith('#addUser'))!;
  const before = domainState(app.dataDir);
  const bodies: [string, BodyInit][] = [
    [action.id.replace(/.$/, (d) => (d === '0' ? '1' : '0')), '[]'],
    ['x'.repeat(42), '[]'],
    [action.id, 'not json'],
    [action.id, '{"$":'],
    [action.id, `[${'['.repeat(10_000)}${']'.repeat(10_000)}]`],
    [action.id, formData({ 0: '["$K1"]', '1_username': 'fuzzer', '1_password': 'a long password', '1_role': 'x' })],
    [action.id, formData({ 0: '[null,"$K9"]' })],
    [action.id, formData({ 0: '[null,"$Q1"]', 1: '[1,2' })],
    [action.id, formData({ 0: '[null,"$K1"]', '1_username': 'a'.repeat(2 ** 20) })],
  ];
  for (const [id, body] of bodies) {
    const res = await fetch(`${app.url}/settings/users`, {
      method: 'POST',
      headers: { 'Next-Action': id, Accept: 'text/x-component', Origin: app.url, cookie },
      body,
      redirect: 'manual',
    });
    expect(res.status, `${id.slice(0, 12)} ${String(body).slice(0, 40)}`).toBeLessThan(500);
    await res.text();
  }
  // The form a browser without JavaScript posts: the action's id as a field, no Next-Action header.
  for (const value of HOSTILE) {
    const res = await fetch(`${app.url}/settings/users`, {
      method: 'POST',
      headers: { Origin: app.url, cookie },
      body: formData({ [`$ACTION_ID_${action.id}`]: '', username: value, password: value, role: value }),
      redirect: 'manual',
    });
    expect(res.status, String(value).slice(0, 40)).toBeLessThan(500);
    await res.text();
  }
  expect(domainState(app.dataDir)).toEqual(before);
});

test('10.6 every server action answers hostile input with a clear refusal below 500, and changes nothing', async ({
  page,
  app,
}) => {
  const actions = manifestActions();
  const uncovered = actions.filter((a) => !(a.key in CASES)).map((a) => a.key);
  expect(uncovered, 'server actions without a fuzz case').toEqual([]);
  const stale = Object.keys(CASES).filter((k) => !actions.some((a) => a.key === k));
  expect(stale, 'fuzz cases of actions the app no longer has').toEqual([]);

  await signIn(page);
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  async function call(action: Action, args: unknown[]): Promise<{ status: number; body: string }> {
    const encoded = await encodeReply(args);
    const res = await fetch(`${app.url}${action.page}`, {
      method: 'POST',
      headers: { 'Next-Action': action.id, Accept: 'text/x-component', Origin: app.url, cookie },
      body: encoded,
      redirect: 'manual',
    });
    return { status: res.status, body: await res.text() };
  }

  // The harness reaches the actions: a valid call does what it says.
  const addWebhook = actions.find((a) => a.key.endsWith('#addWebhook'))!;
  const added = await call(addWebhook, [null, formData({ url: 'https://hooks.example.com/lifeline' })]);
  expect(added.body).toContain('"ok":true');
  expect(domainState(app.dataDir).notification_channels).toEqual([
    expect.objectContaining({ kind: 'webhook', target: 'https://hooks.example.com/lifeline' }),
  ]);

  const before = domainState(app.dataDir);
  const faults: string[] = [];
  let count = 0;
  const last = actions.find((a) => a.key.endsWith('#signOut'))!;
  for (const action of [...actions.filter((a) => a !== last), last]) {
    const c = CASES[action.key];
    for (const args of calls(c)) {
      const { status, body } = await call(action, args);
      count++;
      // Refused by the action, with its message; or before it, with a 4xx and a message (lib/http-security.ts).
      const refused = /"ok":false,"error":"[^"]+"/.test(body) || (status >= 400 && status < 500 && body.length > 0);
      const crashed = status >= 500 || body.includes('Something went wrong on the server');
      if (crashed || !('none' in c || refused)) {
        const shown = JSON.stringify(args, (_k, v) => (v instanceof FormData ? Object.fromEntries(v) : v));
        faults.push(`${action.key} ${shown.slice(0, 120)} → ${status} ${body.split('\n')[1]?.slice(0, 160) ?? ''}`);
      }
    }
  }
  console.log(`${count} calls to ${actions.length} server actions`);
  expect(faults).toEqual([]);
  expect(domainState(app.dataDir)).toEqual(before);
  expect(existsSync(PWNED)).toBe(false);
});
