// How long the tests waited, step by step, against each step's timeout: reads the wait logs that
// test/support/wait.ts and the Playwright reporter write (test-results/waits/*.jsonl) from one or more runs.
//   node scripts/wait-report.mjs [RUN_DIR ...]   (default: this checkout's test-results/waits)
//   --top N   lists the N steps with the least headroom (default 15); --all lists every step
// A step whose timeout is under 3x the slowest time seen for it is marked TIGHT; exit code 1 if any is.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const all = args.includes('--all');
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
const dirs = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--top');
if (dirs.length === 0) dirs.push(path.join(import.meta.dirname, '..', 'test-results', 'waits'));

const steps = new Map();
let records = 0;
for (const dir of dirs) {
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line);
      records++;
      const key = `${r.where} ${r.what}`;
      const step = steps.get(key) ?? {
        where: r.where,
        what: r.what,
        count: 0,
        failed: 0,
        slowest: 0,
        timeoutMs: r.timeoutMs,
      };
      step.count++;
      if (!r.ok) step.failed++;
      step.slowest = Math.max(step.slowest, r.ms);
      step.timeoutMs = Math.min(step.timeoutMs, r.timeoutMs);
      steps.set(key, step);
    }
  }
}
if (records === 0) {
  console.log('No wait was logged (test-results/waits is empty).');
  process.exit(0);
}

const rows = [...steps.values()].map((s) => ({ ...s, headroom: s.timeoutMs / Math.max(1, s.slowest) }));
rows.sort((a, b) => a.headroom - b.headroom);
const tight = rows.filter((r) => r.headroom < 3 || r.failed > 0);
const shown = all ? rows : rows.slice(0, top);
console.log(`Waits: ${records} in ${rows.length} steps, from ${dirs.length} run(s); least headroom first`);
console.log('| slowest | timeout | x | n | step | where |');
console.log('|---:|---:|---:|---:|---|---|');
for (const r of shown) {
  const mark = r.failed ? ` (${r.failed} timed out)` : r.headroom < 3 ? ' TIGHT' : '';
  console.log(
    `| ${(r.slowest / 1000).toFixed(2)} s | ${r.timeoutMs / 1000} s | ${r.headroom.toFixed(1)}${mark} | ${r.count} | ${r.what.replace(/\|/g, '\\|')} | ${r.where} |`,
  );
}
if (tight.length) {
  console.log(`${tight.length} step(s) wait longer than a third of their timeout, or timed out.`);
  process.exit(1);
}
