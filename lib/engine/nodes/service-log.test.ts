import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ServiceLog, StartOutput } from './service-log';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-service-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the service’s output on its node', () => {
  it('14.2 is kept in order, rotated before it passes its cap (the previous file kept), and its tail reads across both', async () => {
    const log = new ServiceLog(path.join(dir, 'a.log'), 1000);
    const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')} ${'x'.repeat(20)}\n`);
    for (const line of lines) log.write(Buffer.from(line));
    const tail = await log.tail(2000);
    // At most two files of the cap each; the newest output last, in order, with nothing in between lost.
    expect(statSync(log.file).size).toBeLessThanOrEqual(1000);
    expect(statSync(`${log.file}.1`).size).toBeLessThanOrEqual(1000);
    expect(tail.endsWith(lines.at(-1)!)).toBe(true);
    const kept = tail.split('\n').filter((l) => l.startsWith('line '));
    const first = Number(kept[0].slice(5, 8));
    expect(kept).toEqual(lines.slice(first).map((l) => l.trimEnd()));
    expect((await log.tail(50)).length).toBe(50);
    // The file is the node's operator's alone.
    expect(statSync(log.file).mode & 0o777).toBe(0o600);
  });

  it('14.2 a chunk larger than the cap keeps its end', async () => {
    const log = new ServiceLog(path.join(dir, 'b.log'), 100);
    log.write(Buffer.from(`${'a'.repeat(500)}the end`));
    expect(await log.tail(1000)).toBe(`${'a'.repeat(93)}the end`);
    expect(existsSync(`${log.file}.1`)).toBe(false);
    expect(readFileSync(log.file, 'utf8')).toHaveLength(100);
  });

  it('14.2 a failed start is explained by the first line that names an error, not by what followed it', () => {
    const out = new StartOutput();
    out.add('starting up\nError: listen EADDRINUSE: address already in use 127.0.0.1:8080\n');
    for (let i = 0; i < 2000; i++) out.add(`    at frame ${i} (/srv/app/node_modules/x/index.js:${i}:7)\n`);
    expect(out.errorLine()).toBe('Error: listen EADDRINUSE: address already in use 127.0.0.1:8080');
    const quiet = new StartOutput();
    quiet.add('ready?\nno\n');
    expect(quiet.errorLine()).toBe('no');
  });
});

describe('the service’s output on its node, under pressure', () => {
  it('14.2 output that comes faster than the disk takes is dropped past a bound, and the log says how much', async () => {
    const log = new ServiceLog(path.join(dir, 'c.log'), 64 * 1024 * 1024);
    // Written in one go: nothing of it reaches the disk before the last write, as with a disk that stalls.
    const chunk = Buffer.alloc(512 * 1024, 'y');
    for (let i = 0; i < 10; i++) log.write(chunk);
    // The disk catches up; what comes next is kept, after a line saying what was lost.
    await log.tail(1);
    log.write(Buffer.from('after\n'));
    const tail = await log.tail(64 * 1024 * 1024);
    expect(tail.length).toBeLessThanOrEqual(4 * 1024 * 1024 + 200);
    expect(tail).toMatch(/\[lifeline: \d+ bytes of output dropped: the disk did not keep up\]\nafter\n$/);
  });

  it('14.2 a log file removed by hand is started again, and nothing after it is lost', async () => {
    const log = new ServiceLog(path.join(dir, 'd.log'), 100);
    log.write(Buffer.from('x'.repeat(90)));
    await log.tail(1);
    rmSync(log.file);
    log.write(Buffer.from('y'.repeat(50)));
    log.write(Buffer.from('z'.repeat(30)));
    expect(await log.tail(1000)).toMatch(/z{30}$/);
    expect(readFileSync(log.file, 'utf8')).toContain('z'.repeat(30));
  });

  it('14.2 a failed start’s error line carries no password of a URL (every role reads it)', () => {
    const out = new StartOutput();
    out.add('Error: connect ECONNREFUSED postgres://app:s3cret@db.internal:5432/app\n');
    expect(out.errorLine()).toBe('Error: connect ECONNREFUSED postgres://…@db.internal:5432/app');
  });
});
