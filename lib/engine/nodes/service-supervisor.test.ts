import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { serviceConfigSchema } from './agent-config';
import { freePort } from '../free-port';
import { ServiceLog } from './service-log';
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

  it('14.2 a service that fails to start is explained by the first error line of its whole output, a long trace after it notwithstanding, and the node keeps all of it', async () => {
    const log = new ServiceLog(path.join(dir, 'service.log'));
    const trace = Array.from({ length: 300 }, (_, i) => `    at frame ${i} (/srv/app/index.js:${i}:7)`).join('\\n');
    const service = serviceConfigSchema.parse({
      command: [
        process.execPath,
        '-e',
        `console.log('starting'); console.error('Error: cannot open /srv/app/config.yml: no such file'); console.error('${trace}'); process.exit(1)`,
      ],
      port: await freePort(),
      dataDir: path.join(dir, 'data5'),
    });
    const failed = startService(service, { port: service.port, dataDir: service.dataDir }, undefined, log);
    await expect(failed).rejects.toThrow(
      /did not start: it exited: Error: cannot open \/srv\/app\/config\.yml: no such file \(its whole output: .*service\.log\)/,
    );
    const kept = await log.tail(64 * 1024);
    expect(kept).toContain('starting');
    expect(kept).toContain('Error: cannot open /srv/app/config.yml');
    expect(kept.trimEnd().endsWith('at frame 299 (/srv/app/index.js:299:7)')).toBe(true);
  });

  it('13.7 a stop takes the service’s whole process group: every child it started (which would go on serving on its port) is gone when the stop returns', async () => {
    const pids = path.join(dir, 'worker.pid');
    // A wrapper that starts the real server and a few more workers as its children, as a pre-forking server does,
    // and ignores the stop signal itself, as shells and process managers in front of a service may. Killed
    // processes die when they are next scheduled: with several of them, some are still running just after the kill.
    const idle = 'setInterval(() => {}, 1000)';
    const wrapper = `const { spawn } = require('child_process'); const start = (code) => spawn(process.execPath, ['-e', code], { stdio: 'inherit', env: process.env }).pid; const all = [start(${JSON.stringify(server)})]; for (let i = 0; i < 7; i++) all.push(start(${JSON.stringify(idle)})); require('fs').writeFileSync(${JSON.stringify(pids)}, all.join(' ')); process.on('SIGTERM', () => process.exit(0))`;
    const service = serviceConfigSchema.parse({
      command: [process.execPath, '-e', wrapper],
      env: { PORT: '{port}' },
      port: await freePort(),
      health: { httpPath: '/health' },
      stopTimeoutMs: 2000,
      dataDir: path.join(dir, 'data4'),
    });
    const running = await startService(service, { port: service.port, dataDir: service.dataDir });
    // Written before the server could answer its health check.
    const workers = readFileSync(pids, 'utf8').split(' ').map(Number);
    expect(workers).toHaveLength(8);
    await stopService(service, running);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        // A zombie (state Z) has died; nobody may have reaped it yet.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
      } catch {
        return false;
      }
    };
    try {
      expect(workers.filter(alive)).toEqual([]);
      expect(await checkServiceHealth(service, service.port)).toBe(false);
    } finally {
      for (const pid of workers.filter(alive)) process.kill(pid, 'SIGKILL');
    }
  });
});
