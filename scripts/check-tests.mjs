// Test hygiene, checked in CI: tests wait for conditions through test/support/wait.ts (never a bare sleep, a
// Playwright timeout or another polling helper), and nothing retries a failed test. Reads the code's syntax
// tree, so a `setTimeout` inside a string (a child process's script) is not mistaken for a call.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..');
const HELPER = 'test/support/wait.ts';
const SKIP = new Set(['node_modules', '.next', 'dist', 'data', 'test-results', '.git']);

const SLEEP = `a bare sleep: wait for a condition with waitFor, or space out a load with pace (${HELPER})`;
/** Other ways to wait or retry, by `owner.method` (`*` for any owner). */
const BANNED = {
  '*.waitForTimeout': `a fixed Playwright sleep: wait for a condition with waitFor (${HELPER})`,
  '*.toPass': `toPass retries a block: wait through waitFor (${HELPER})`,
  'expect.poll': `expect.poll: wait through waitFor (${HELPER}), which names the wait and logs its time`,
  'vi.waitFor': `vi.waitFor: wait through waitFor (${HELPER})`,
  'vi.waitUntil': `vi.waitUntil: wait through waitFor (${HELPER})`,
};

function files(dir, keep) {
  const out = [];
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(rel, keep));
    else if (keep(rel)) out.push(rel);
  }
  return out;
}

const isTestFile = (rel) =>
  /\.(test|spec)\.tsx?$/.test(rel) || /^(test|e2e)\/.*\.(ts|tsx|mjs)$/.test(rel.replace(/^\.\//, ''));
const testFiles = files('.', (rel) => isTestFile(rel.replace(/^\.\//, ''))).map((f) => f.replace(/^\.\//, ''));
const configFiles = readdirSync(ROOT).filter((f) => /^(vitest|playwright)\.config\.(ts|mts|js|mjs)$/.test(f));

const problems = [];
const report = (file, source, node, message) => {
  const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
  problems.push(`${file}:${line + 1}: ${message}`);
};

function check(file, { sleeps }) {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (sleeps && ts.isCallExpression(node)) {
      const callee = node.expression;
      if (ts.isIdentifier(callee) && ['setTimeout', 'setInterval'].includes(callee.text))
        report(file, source, node, SLEEP);
      if (ts.isPropertyAccessExpression(callee)) {
        const method = callee.name.text;
        const banned = BANNED[`${callee.expression.getText(source)}.${method}`] ?? BANNED[`*.${method}`];
        if (['setTimeout', 'setInterval'].includes(method)) report(file, source, node, SLEEP);
        else if (banned) report(file, source, node, banned);
      }
    }
    if (sleeps && ts.isImportDeclaration(node) && /^(node:)?timers\/promises$/.test(node.moduleSpecifier.text))
      report(file, source, node, SLEEP);
    // `retry: 2`, `retries: 1`, `{ retry }`: only a literal 0 is allowed.
    if (
      (ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node)) &&
      ['retry', 'retries'].includes(node.name.getText(source))
    ) {
      const value = ts.isPropertyAssignment(node) ? node.initializer : null;
      if (!value || !ts.isNumericLiteral(value) || Number(value.text) !== 0)
        report(file, source, node, 'tests are never retried: a flaky test is a bug to fix (retries stay 0)');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

for (const file of testFiles) if (file !== HELPER) check(file, { sleeps: true });
for (const file of configFiles) check(file, { sleeps: false });

// Retries switched on from the command line.
for (const file of ['package.json', ...files('scripts', (f) => /\.(mjs|js|ts)$/.test(f)), '.ci/run']) {
  if (file === 'scripts/check-tests.mjs') continue;
  readFileSync(path.join(ROOT, file), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (/--retr(y|ies)\b/.test(line)) problems.push(`${file}:${i + 1}: tests are never retried (--retry/--retries)`);
    });
}

if (problems.length) {
  console.error(`Test hygiene: ${problems.length} problem(s)\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(
  `Test hygiene: ${testFiles.length} test files and ${configFiles.length} configs checked: no sleeps, no retries.`,
);
