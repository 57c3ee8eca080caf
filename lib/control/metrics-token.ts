// 17.1: the bearer token a Prometheus server scrapes /metrics with. An admin makes one (Settings → Metrics); it is
// shown once and kept only as its SHA-256, in the dashboard's database, which no node reads (09.2): a token is 256
// random bits, so a fast hash is as good as a slow one, and a leaked database does not give it away.
import 'server-only';

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import { deleteSetting, getSetting, setSetting } from './settings';

const KEY = 'metrics.token-sha256';
const MADE_KEY = 'metrics.token-made';
/** Tokens say what they are for, so that one found in a config file or a log is recognised. */
const PREFIX = 'lifeline_metrics_';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** Makes a new token, replacing any earlier one, and returns it: the only time it is seen whole. */
export function makeMetricsToken(): string {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  setSetting(KEY, digest(token).toString('hex'));
  setSetting(MADE_KEY, String(Date.now()));
  return token;
}

export function revokeMetricsToken(): void {
  deleteSetting(KEY);
  deleteSetting(MADE_KEY);
}

/** When the token in use was made, or null when there is none (then /metrics answers nobody). */
export function metricsTokenMade(): number | null {
  const made = getSetting(MADE_KEY);
  return getSetting(KEY) && made ? Number(made) : null;
}

export type MetricsAccess = 'ok' | 'off' | 'refused';

/** Whether an Authorization header carries the token in use. */
export function checkMetricsAccess(authorization: string | null): MetricsAccess {
  const stored = getSetting(KEY);
  if (!stored) return 'off';
  const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(authorization ?? '');
  if (!match) return 'refused';
  const expected = Buffer.from(stored, 'hex');
  const given = digest(match[1]);
  return expected.length === given.length && timingSafeEqual(expected, given) ? 'ok' : 'refused';
}
