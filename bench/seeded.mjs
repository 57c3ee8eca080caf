// Deterministic randomness for the benchmarks: the same seed gives the same corpus on every run and machine.
import { createCipheriv, createHash } from 'node:crypto';

export function sfc32(a, b, c, d) {
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
}

export function rng(seed) {
  const h = createHash('sha256').update(String(seed)).digest();
  const next = sfc32(h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12));
  for (let i = 0; i < 16; i++) next();
  const float = () => next() / 4294967296;
  return { next, float, int: (n) => Math.floor(float() * n) };
}

/** Incompressible, reproducible bytes: the AES-256-CTR keystream under a key derived from the seed. */
export function keystream(seed) {
  const key = createHash('sha256').update(`key:${seed}`).digest();
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return (n) => cipher.update(Buffer.alloc(n));
}

/** The benchmarks' SQLite table: application events with two indexes, as a service might keep. Returns the
 *  prepared insert (ts, kind, actor, body). */
export function createEventsTable(db) {
  db.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL, body TEXT NOT NULL);
           CREATE INDEX events_ts ON events(ts);
           CREATE INDEX events_actor ON events(actor);`);
  return db.prepare('INSERT INTO events (ts, kind, actor, body) VALUES (?, ?, ?, ?)');
}

export const EVENT_KINDS = ['login', 'logout', 'upload', 'download', 'comment', 'edit', 'delete', 'share'];
