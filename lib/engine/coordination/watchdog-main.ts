// The watchdog: a process of its own beside a node's agent (a SIGSTOP of the agent stops every thread of it, so a
// thread could not guard anything), with its own timer on the machine's monotonic clock. While the agent's service
// is primary, the agent feeds it the send time of each successful renewal of the leader key; if no renewal comes
// by that time + TTL − max(1 s, TTL/4), the lease may be about to run out and a standby to take over, so the
// watchdog kills the service's whole process group first. It outlives the agent: when the agent dies the feed
// stops, and the deadline stands.
//
// Input, one JSON line each, on stdin: {"type":"arm","pgid":N} (guard this process group),
// {"type":"renewed","sentNs":"<process.hrtime.bigint() at the renewal's send>","ttlMs":N}, {"type":"disarm"}
// (the agent stopped the service itself). Output: one JSON line per event ({"type":"killed","pgid":N,...}).
import readline from 'node:readline';

import { watchdogDeadlineNs } from './watchdog-deadline';

let pgid: number | null = null;
let deadlineNs: bigint | null = null;
let timer: NodeJS.Timeout | null = null;

function say(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function schedule(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  if (pgid === null || deadlineNs === null) return;
  const waitMs = Number(deadlineNs - process.hrtime.bigint()) / 1e6;
  timer = setTimeout(fire, Math.max(0, waitMs));
}

function fire(): void {
  if (pgid === null || deadlineNs === null) return;
  // A timer may fire a little early: it is the monotonic clock that decides.
  if (process.hrtime.bigint() < deadlineNs) {
    schedule();
    return;
  }
  const killed = pgid;
  try {
    process.kill(-killed, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
  pgid = null;
  deadlineNs = null;
  say({ type: 'killed', pgid: killed, why: 'no renewal of the leader key in time' });
}

readline.createInterface({ input: process.stdin }).on('line', (text) => {
  let message: { type?: string; pgid?: unknown; sentNs?: unknown; ttlMs?: unknown };
  try {
    message = JSON.parse(text);
  } catch {
    return;
  }
  if (message.type === 'arm' && Number.isInteger(message.pgid) && (message.pgid as number) > 1) {
    pgid = message.pgid as number;
    deadlineNs = null;
  } else if (message.type === 'renewed' && typeof message.sentNs === 'string' && Number(message.ttlMs) > 0) {
    const next = watchdogDeadlineNs(BigInt(message.sentNs), Number(message.ttlMs));
    // Renewals may arrive out of order: a deadline only moves later.
    if (deadlineNs === null || next > deadlineNs) deadlineNs = next;
  } else if (message.type === 'disarm') {
    pgid = null;
    deadlineNs = null;
  }
  schedule();
});

// The agent is gone (or closed the pipe): what was armed stays armed until its deadline, and a service armed with
// no renewal yet (no deadline known) is killed at once; then nothing is left to do.
process.stdin.on('end', () => {
  if (pgid !== null && deadlineNs === null) {
    deadlineNs = process.hrtime.bigint();
    fire();
  }
  if (pgid === null) process.exit(0);
  const done = setInterval(() => {
    if (pgid === null) {
      clearInterval(done);
      process.exit(0);
    }
  }, 100);
});
process.on('SIGTERM', () => undefined);
// Whoever read the events may be gone (the agent died): that changes nothing here.
process.stdout.on('error', () => undefined);
say({ type: 'ready', pid: process.pid });
