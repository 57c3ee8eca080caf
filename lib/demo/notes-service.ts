// The demo cluster's guarded service: a small HTTP service that keeps numbered writes in SQLite and answers
// only after each write is committed (an acknowledged write is a durable write).
//   GET  /health              200 while the database answers
//   POST /writes {"seq": N}   stores write N; 201 once committed
//   POST /writes/missing {"seqs": [...]}  how many of these writes it does not hold (lost writes)
import http from 'node:http';
import path from 'node:path';

import Database from 'better-sqlite3';

const port = Number(process.env.PORT);
const file = process.env.NOTES_DB ?? path.resolve('notes.db');
if (!port) {
  console.error('notes-service: set PORT (and NOTES_DB)');
  process.exit(2);
}

const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS writes (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL)');
const insert = db.prepare('INSERT OR IGNORE INTO writes (seq, at) VALUES (?, ?)');
const has = db.prepare('SELECT 1 FROM writes WHERE seq = ?').pluck();
const total = db.prepare('SELECT count(*) AS n, coalesce(max(seq), 0) AS max FROM writes');

function reply(res: http.ServerResponse, status: number, data: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(data));
}

function field(body: string, name: string): unknown {
  try {
    return (JSON.parse(body) as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://notes');
  if (req.method === 'GET' && url.pathname === '/health') return reply(res, 200, total.get());
  if (req.method !== 'POST') return reply(res, 404, { error: 'not found' });
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (url.pathname === '/writes/missing') {
      const seqs = field(body, 'seqs');
      if (!Array.isArray(seqs) || seqs.length > 100_000) return reply(res, 400, { error: 'send {"seqs": [N, ...]}' });
      return reply(res, 200, { missing: seqs.filter((n) => !has.get(n)).length });
    }
    if (url.pathname === '/writes') {
      const seq = field(body, 'seq');
      if (!Number.isSafeInteger(seq) || (seq as number) < 1)
        return reply(res, 400, { error: 'send {"seq": N} with N a positive integer' });
      insert.run(seq, Date.now());
      return reply(res, 201, { seq });
    }
    reply(res, 404, { error: 'not found' });
  });
});

server.listen(port, process.env.HOST ?? '127.0.0.1', () =>
  console.log(`notes: listening on port ${port}, ${(total.get() as { n: number }).n} writes in ${file}`),
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    db.close();
    process.exit(0);
  });
}
