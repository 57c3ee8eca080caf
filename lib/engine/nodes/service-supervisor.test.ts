import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { serviceConfigSchema } from './agent-config';
import { freePort } from '../free-port';
import { checkServiceHealth, startService, stopService } from './service-supervisor';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-supervisor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A real service process: a tiny HTTP server that answers /health.
const server = `require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')`;

describe('the service supervisor', () => {
  it('starts a service once it is healthy, and stops it with its stop hook', async () => {
    const marker = path.join(dir, 'stopped-by-hook');
    const service = serviceConfigSchema.parse({
      command: [process.execPath, '-e', server],
      env: { PORT: '{port}' },
      port: await freePort(),
      health: { httpPath: '/health' },
      dataDir: path.join(dir, 'data'),
      stopCommand: `echo "$SERVICE_PORT" > ${marker}; kill -TERM "$SERVICE_PID"`,
    });
    const running = await startService(service, { port: service.port, dataDir: service.dataDir });
    expect(await checkServiceHealth(service, service.port)).toBe(true);
    const exit = await stopService(service, running);
    expect(exit.signal).toBe('SIGTERM');
    expect(readFileSync(marker, 'utf8').trim()).toBe(String(service.port));
    expect(await checkServiceHealth(service, service.port)).toBe(false);
  });

  it('kills a service that ignores its stop signal once the grace period is over', async () => {
    const service = serviceConfigSchema.parse({
      command: [process.execPath, '-e', `process.on('SIGTERM', () => {}); ${server}`],
      env: { PORT: '{port}' },
      port: await freePort(),
      stopTimeoutMs: 300,
      dataDir: path.join(dir, 'data2'),
    });
    const running = await startService(service, { port: service.port, dataDir: service.dataDir });
    expect((await stopService(service, running)).signal).toBe('SIGKILL');
  });

  it('reports a service that exits at start, with its error', async () => {
    const service = serviceConfigSchema.parse({
      command: [process.execPath, '-e', 'console.error("Error: no database"); process.exit(3)'],
      port: await freePort(),
      dataDir: path.join(dir, 'data3'),
    });
    await expect(startService(service, { port: service.port, dataDir: service.dataDir })).rejects.toThrow(
      /did not start: it exited: Error: no database/,
    );
    expect(existsSync(path.join(dir, 'data3'))).toBe(true);
  });

  it('13.7 a stop takes the service’s whole process group: a child it started (which would go on serving on its port) is gone too', async () => {
    const pids = path.join(dir, 'worker.pid');
    // A wrapper that starts the real server as its child and ignores the stop signal itself, as shells and
    // process managers in front of a service may.
    const wrapper = `const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(server)}], { stdio: 'inherit', env: process.env }); require('fs').writeFileSync(${JSON.stringify(pids)}, String(c.pid)); process.on('SIGTERM', () => process.exit(0))`;
    const service = serviceConfigSchema.parse({
      command: [process.execPath, '-e', wrapper],
      env: { PORT: '{port}' },
      port: await freePort(),
      health: { httpPath: '/health' },
      stopTimeoutMs: 2000,
      dataDir: path.join(dir, 'data4'),
    });
    const running = await startService(service, { port: service.port, dataDir: service.dataDir });
    const worker = Number(readFileSync(pids, 'utf8'));
    await stopService(service, running);
    const alive = () => {
      try {
        process.kill(worker, 0);
        return !/^\S+ \S+ Z/.test(readFileSync(`/proc/${worker}/stat`, 'utf8').replace(/\(.*\)/, 'x'));
      } catch {
        return false;
      }
    };
    try {
      expect(alive()).toBe(false);
      expect(await checkServiceHealth(service, service.port)).toBe(false);
    } finally {
      if (alive()) process.kill(worker, 'SIGKILL');
    }
  });
});
