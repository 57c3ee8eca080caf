// Password hashes: scrypt (N=2^17, r=8, p=1: 128 MiB and a few hundred milliseconds each) with a random salt, the
// parameters stored with the hash, so a hash made with weaker ones is known and replaced at the next sign-in. At most
// two hashes run at once and a few dozen wait: a flood of sign-ins gets "busy" answers instead of the server's
// memory. The test suites set LIFELINE_TEST_KDF=cheap (as for repository keys, crypto.ts newKeyKdf): their hundreds
// of sign-ins would otherwise spend minutes of CPU in scrypt. A hash made so is weaker than today's parameters, and
// is replaced at the next sign-in of a server that runs without it.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const STRONG_N = 2 ** 17;
const R = 8;
const P = 1;

/** scrypt's N for a hash made now. */
const costN = () => (process.env.LIFELINE_TEST_KDF === 'cheap' ? 2 ** 10 : STRONG_N);
const KEY_BYTES = 32;
const CONCURRENT = 2;
const QUEUED = 32;

export class HashingBusy extends Error {
  constructor() {
    super('too many sign-ins at once: try again in a moment');
  }
}

let running = 0;
const waiting: (() => void)[] = [];

async function bounded<T>(work: () => Promise<T>): Promise<T> {
  if (running >= CONCURRENT) {
    if (waiting.length >= QUEUED) throw new HashingBusy();
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else running++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return bounded(
    () =>
      new Promise((resolve, reject) => {
        scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N: n, r, p, maxmem: 256 * n * r }, (err, key) =>
          err ? reject(err) : resolve(key),
        );
      }),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const n = costN();
  const key = await derive(password, salt, n, R, P);
  return `scrypt$${n}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Whether a stored hash was made with weaker parameters than today's. */
export function needsRehash(stored: string): boolean {
  const [scheme, n, r, p] = stored.split('$');
  return scheme !== 'scrypt' || Number(n) < costN() || Number(r) < R || Number(p) < P;
}

/** A hash of nothing anyone knows, with today's parameters: checked against when a username does not exist, so
 *  that the time taken does not tell which usernames do. */
export function unknownUserHash(): string {
  return `scrypt$${costN()}$${R}$${P}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEY_BYTES).toString('base64')}`;
}
