// A service's writes to its SQLite database, from a process of its own: `node sqlite-writer.cjs DB TRANSACTIONS
// [PER_SECOND] [KEEP]` writes that many transactions (0: until it is sent SIGTERM), as requests arriving at that
// rate (500 a second by default) would, of one to eight rows (payloads of up to 6 KB: some span pages) into table t,
// in WAL mode with SQLite's automatic checkpoints every 100 pages, and every 50 transactions asks for a TRUNCATE
// checkpoint of its own, as some applications do. With KEEP, each transaction also deletes the rows of the one KEEP
// transactions before it, so the database keeps its size under the load (a table of recent work, a queue). It
// prints one JSON line at the end: the rows and transactions written, over how many seconds, and how many of its
// TRUNCATE checkpoints were kept from resetting the log (busy).
const crypto = require('node:crypto');

const Database = require('better-sqlite3');

const [file, count, perSecond = '500', keepArg = '0'] = process.argv.slice(2);
const interval = 1000 / Number(perSecond);
const total = Number(count) || Number.POSITIVE_INFINITY;
const keep = Number(keepArg);
const db = new Database(file, { timeout: 10_000 });
db.pragma('journal_mode = WAL');
db.pragma('wal_autocheckpoint = 100');
db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, txn INTEGER, body BLOB)');
const insert = db.prepare('INSERT INTO t (txn, body) VALUES (?, ?)');
const drop = db.prepare('DELETE FROM t WHERE id <= ?');
/** The last row id of each of the last KEEP transactions, oldest first. */
const lastIds = [];
let rows = 0;
let transactions = 0;
let busy = 0;
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});
const started = performance.now();
(async () => {
  for (let txn = 1; txn <= total && !stopping; txn++) {
    // The next request arrives on schedule.
    const due = started + txn * interval - performance.now();
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    const n = 1 + crypto.randomInt(8);
    db.transaction(() => {
      let id = 0;
      for (let i = 0; i < n; i++)
        id = Number(insert.run(txn, crypto.randomBytes(crypto.randomInt(1, 6000))).lastInsertRowid);
      if (keep > 0) {
        lastIds.push(id);
        if (lastIds.length > keep) drop.run(lastIds.shift());
      }
    })();
    rows += n;
    transactions = txn;
    if (txn % 50 === 0) {
      // It waits on readers only briefly here (an application waits its busy timeout).
      db.pragma('busy_timeout = 20');
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)');
      db.pragma('busy_timeout = 10000');
      if (result.busy) busy++;
    }
  }
  db.close();
})().then(() =>
  process.stdout.write(
    `${JSON.stringify({ rows, transactions, seconds: (performance.now() - started) / 1000, truncateBusy: busy })}\n`,
  ),
);
