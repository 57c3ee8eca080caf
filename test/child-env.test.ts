// 09.2: secrets never reach a child process's environment (which other processes of the same user can read in
// /proc/PID/environ, and which children hand down): not a CLI job's, a plan's command's, the guarded service's or
// its stop command's. Each is a real child, and what it was given is read back from it.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '@/lib/control/run-cli';
import { serviceConfigSchema } from '@/lib/engine/nodes/agent-config';
import { startService, stopService } from '@/lib/engine/nodes/service-supervisor';
import { freePort } from '@/lib/engine/free-port';
import { runHook } from '@/lib/engine/run-hook';
import { waitFor } from './support/wait';

const SECRETS = {
  LIFELINE_PASSWORD: 'the repository passphrase',
  LIFELINE_ADMIN_PASSWORD: 'the seeded admin password',
  AWS_SECRET_ACCESS_KEY: 'an S3 secret key',
  ETCD_PASSWORD: 'an etcd password',
  LIFELINE_METRICS_TOKEN: 'a bearer token',
  SMTP_PASS_SECRET: 'an SMTP password',
  LIFELINE_SMTP_URL: 'smtp://mailer:hunter2@127.0.0.1:2525',
  DATABASE_URL: 'postgres://app:s3cret@db.internal/app',
  GIT_REMOTE: 'https://ghp_0123456789@github.com/org/repo.git',
  MYSQL_PWD: 'a MySQL password',
  ENCRYPTION_KEY: 'a data key',
};
const HARMLESS = { LIFELINE_DATA_DIR_HINT: 'kept', TZ: 'UTC' };
const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-child-env-'));
const saved = { ...process.env };

beforeAll(() => Object.assign(process.env, SECRETS, HARMLESS));
afterAll(() => {
  for (const name of Object.keys({ ...SECRETS, ...HARMLESS })) delete process.env[name];
  Object.assign(process.env, saved);
});

/** What a child was given: NAME=value lines. */
function parseEnv(text: string, separator: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(separator)
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function expectNoSecrets(env: Record<string, string>): void {
  expect(env.PATH).toBeTruthy();
  expect(env).toMatchObject(HARMLESS);
  for (const name of Object.keys(SECRETS)) expect({ name, value: env[name] }).toEqual({ name, value: undefined });
}

describe('09.2 secrets stay out of child processes’ environments', () => {
  it('09.2 a plan’s command before or after a backup', async () => {
    const out = path.join(dir, 'hook.env');
    expect(await runHook(`env > ${out}`, 10)).toEqual({ ok: true });
    expectNoSecrets(parseEnv(readFileSync(out, 'utf8'), '\n'));
  });

  it('09.2 the guarded service and its stop command (with the variables its config sets)', async () => {
    const started = path.join(dir, 'service.env');
    const stopped = path.join(dir, 'stop.env');
    const service = serviceConfigSchema.parse({
      command: [
        process.execPath,
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(started)}, JSON.stringify(process.env)); require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')`,
      ],
      env: { PORT: '{port}', APP_MODE: 'production' },
      port: await freePort(),
      health: { httpPath: '/health' },
      dataDir: path.join(dir, 'data'),
      stopCommand: `env > ${stopped}; kill -TERM "$SERVICE_PID"`,
    });
    const running = await startService(service, { port: service.port, dataDir: service.dataDir });
    let env: Record<string, string>;
    try {
      env = JSON.parse(readFileSync(started, 'utf8')) as Record<string, string>;
    } finally {
      // Stopped whatever the assertions say: a failing test leaves no service running.
      await stopService(service, running);
    }
    expectNoSecrets(env);
    expect(env.APP_MODE).toBe('production');
    const stopEnv = parseEnv(readFileSync(stopped, 'utf8'), '\n');
    expectNoSecrets(stopEnv);
    expect(stopEnv.SERVICE_PID).toBe(String(running.child.pid));
  });

  it('09.2 a CLI job the dashboard runs (the passphrase goes by file)', async () => {
    const { child, done } = runCli(['snapshots', '--repo', path.join(dir, 'no-repository')], path.join(dir, 'pw'));
    // Read while it runs: a new process is at least some milliseconds from its exit.
    const env = parseEnv(readFileSync(`/proc/${child.pid}/environ`, 'utf8'), '\0');
    expectNoSecrets(env);
    await waitFor('the CLI to end', () => done, 30_000);
  });
});
