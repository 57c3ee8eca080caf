// 13.2: the watchdog is a process of its own, fed by the agent with the send time of each renewal of the leader
// key; it kills the service's whole process group (its children too) at TTL − max(1 s, TTL/4) after the last one.
// The agent here is a real process (a stand-in that starts a service group and the watchdog, and renews on a
// timer), killed with SIGKILL or stopped with SIGSTOP as a crash or a stall would.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

import { afterEach, describe, expect, it } from 'vitest';

import { watchdogDeadlineNs } from '@/lib/engine/coordination/watchdog-deadline';

import { groupMembers, runs } from './support/processes';
import { waitFor } from './support/wait';

const DIST = path.resolve(__dirname, '..', 'dist');
// 4 s: the watchdog kills 3 s after a renewal's send, far past any stall of the stand-in's 200 ms renewals on a
// loaded machine, so only the faults the tests make can set it off.
const TTL_MS = 4000;

/** The stand-in agent: a service in a process group of its own (a parent and a child, both sleeping), the watchdog
 *  armed on that group, and a renewal every 200 ms. It prints what it started, as one JSON line. */
const AGENT = `
const { spawn } = require('node:child_process');
const { WatchdogClient } = require(${JSON.stringify(path.join(DIST, 'engine.cjs'))});
const service = spawn(process.execPath, ['-e', "require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); setInterval(() => {}, 1000)"], { detached: true, stdio: 'ignore' });
const watchdog = new WatchdogClient(${JSON.stringify(path.join(DIST, 'watchdog.cjs'))});
watchdog.ready.then(() => {
  watchdog.arm(service.pid);
  const renew = () => watchdog.renewed(process.hrtime.bigint(), ${TTL_MS});
  renew();
  setInterval(renew, 200);
  console.log(JSON.stringify({ service: service.pid, watchdog: watchdog.pid }));
});
`;

let started: { agent: ChildProcess; service: number; watchdog: number } | null = null;
afterEach(() => {
  if (!started) return;
  for (const pid of [started.agent.pid!, started.watchdog]) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  try {
    process.kill(-started.service, 'SIGKILL');
  } catch {
    // Gone.
  }
  started = null;
});

async function startAgent() {
  const agent = spawn(process.execPath, ['-e', AGENT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await waitFor(
    'the stand-in agent to start its service and watchdog',
    new Promise<string>((resolve) => readline.createInterface({ input: agent.stdout! }).once('line', resolve)),
    20_000,
  );
  const { service, watchdog } = JSON.parse(line) as { service: number; watchdog: number };
  started = { agent, service, watchdog };
  await waitFor('the service and its child to run', () => groupMembers(service).length === 2, 10_000);
  return started;
}

describe('13.2 the watchdog', () => {
  it('13.2 the deadline is the renewal’s send time + TTL − max(1 s, TTL/4)', () => {
    expect(watchdogDeadlineNs(0n, 2000)).toBe(1_000_000_000n);
    expect(watchdogDeadlineNs(5n, 10_000)).toBe(5n + 7_500_000_000n);
  });

  it('13.2 fed in time it leaves the service running past the TTL; once the agent is killed, it kills the service’s whole group by the deadline and exits', async () => {
    const { agent, service, watchdog } = await startAgent();
    const until = Date.now() + TTL_MS * 1.5;
    await waitFor(
      'one and a half TTLs with the service running',
      () => {
        if (groupMembers(service).length !== 2) throw new Error('the service group lost a process');
        return Date.now() > until;
      },
      TTL_MS * 3,
    );
    expect(groupMembers(service)).toHaveLength(2);
    const killedAt = process.hrtime.bigint();
    agent.kill('SIGKILL');
    await waitFor('the service group to be killed', () => groupMembers(service).length === 0, TTL_MS + 3000);
    // Not before the deadline of a renewal sent just before the agent died (at most 200 ms before).
    expect(process.hrtime.bigint()).toBeGreaterThan(watchdogDeadlineNs(killedAt - 200_000_000n, TTL_MS));
    await waitFor('the watchdog to exit', () => !runs(watchdog), 5000);
  }, 30_000);

  it('13.2 an agent stopped with SIGSTOP past the deadline: the watchdog, a process of its own, kills the service', async () => {
    const { agent, service, watchdog } = await startAgent();
    agent.kill('SIGSTOP');
    await waitFor('the service group to be killed', () => groupMembers(service).length === 0, TTL_MS + 3000);
    expect(runs(watchdog)).toBe(true);
    agent.kill('SIGCONT');
  }, 30_000);
});
