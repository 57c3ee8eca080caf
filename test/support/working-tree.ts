// A project's working tree as backups see it day after day (17.3): text files that compress about 3×, a few edited
// each day, a log that grows, files added and removed; and a ransomware run that rewrites a share of the files with
// random bytes.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Text as a project's files hold it: words from a vocabulary, lines of varying length. */
export function prose(seed: number, lines: number): string {
  const words = [
    'backup',
    'restore',
    'node',
    'primary',
    'standby',
    'snapshot',
    'the',
    'a',
    'of',
    'and',
    'to',
    'config',
    'value',
    'user',
    'order',
    'invoice',
    'total',
    'status',
    'error',
    'done',
    'request',
    'id',
    'time',
  ];
  let x = seed * 2654435761 + 1;
  const next = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x;
  };
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = 4 + (next() % 12);
    const line = [`${i}:`];
    for (let w = 0; w < n; w++) line.push(words[next() % words.length]);
    line.push(String(next() % 100_000));
    out.push(line.join(' '));
  }
  return `${out.join('\n')}\n`;
}

export function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
}

/** Six folders of twenty text files (about 2.5 MB). */
export function workingTree(root: string): void {
  for (let d = 0; d < 6; d++) {
    mkdirSync(path.join(root, `dir${d}`), { recursive: true });
    for (let f = 0; f < 20; f++)
      writeFileSync(path.join(root, `dir${d}`, `file${f}.txt`), prose(d * 100 + f, 150 + ((d * 37 + f * 11) % 400)));
  }
}

/** Day `day`'s work: some files edited, the log grown, now and then a file added or removed. */
export function workingDay(root: string, day: number): void {
  const files = filesOf(root);
  for (let k = 0; k < 2 + (day % 4); k++) {
    const f = files[(day * 7 + k * 13) % files.length];
    writeFileSync(f, prose(day * 1000 + k, 100 + ((day * k * 31) % 300)));
  }
  appendFileSync(path.join(root, 'dir0', 'file0.txt'), prose(day, 20 + day * 3));
  if (day % 3 === 0) writeFileSync(path.join(root, `dir${day % 6}`, `new${day}.txt`), prose(day * 77, 200));
  if (day % 5 === 0) rmSync(files[(day * 11) % files.length]);
}

/** Ransomware at work: three files in ten rewritten in place with random bytes of the same length. Returns the
 *  files it rewrote. */
export function encryptSome(root: string): string[] {
  const hit = filesOf(root).filter((_, i) => i % 10 < 3);
  for (const f of hit) writeFileSync(f, randomBytes(statSync(f).size));
  return hit;
}
