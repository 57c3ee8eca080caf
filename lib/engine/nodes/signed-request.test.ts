import { describe, expect, it } from 'vitest';

import { AUTH_HEADERS, NonceCache, newSecret, signRequest, verifyRequest } from './signed-request';

function headersOf(h: Record<string, string>) {
  return { get: (name: string) => h[name] ?? null };
}

describe('signed requests', () => {
  const creds = { nodeId: 'n1', secret: newSecret() };
  const secretFor = (id: string) => (id === 'n1' ? creds.secret : null);

  it('accepts a signed request once and refuses the same request replayed', () => {
    const nonces = new NonceCache();
    const h = signRequest(creds, 'POST', '/v1/promote', '{"epoch":2}');
    expect(verifyRequest(headersOf(h), 'POST', '/v1/promote', '{"epoch":2}', secretFor, nonces)).toMatchObject({
      ok: true,
      nodeId: 'n1',
    });
    expect(verifyRequest(headersOf(h), 'POST', '/v1/promote', '{"epoch":2}', secretFor, nonces)).toEqual({
      ok: false,
      reason: 'replay',
    });
  });

  it('refuses a changed body, path or method, a wrong secret and an unknown node', () => {
    const nonces = new NonceCache();
    const h = signRequest(creds, 'POST', '/v1/promote', '{"epoch":2}');
    expect(verifyRequest(headersOf(h), 'POST', '/v1/promote', '{"epoch":3}', secretFor, nonces)).toEqual({
      ok: false,
      reason: 'signature',
    });
    expect(verifyRequest(headersOf(h), 'POST', '/v1/demote', '{"epoch":2}', secretFor, nonces)).toEqual({
      ok: false,
      reason: 'signature',
    });
    expect(verifyRequest(headersOf(h), 'PUT', '/v1/promote', '{"epoch":2}', secretFor, nonces)).toEqual({
      ok: false,
      reason: 'signature',
    });
    expect(verifyRequest(headersOf(h), 'POST', '/v1/promote', '{"epoch":2}', () => newSecret(), nonces)).toEqual({
      ok: false,
      reason: 'signature',
    });
    expect(
      verifyRequest(
        headersOf({ ...h, [AUTH_HEADERS.node]: 'n2' }),
        'POST',
        '/v1/promote',
        '{"epoch":2}',
        secretFor,
        nonces,
      ),
    ).toEqual({ ok: false, reason: 'unknown-node' });
    expect(verifyRequest(headersOf({}), 'GET', '/v1/status', '', secretFor, nonces)).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  it('refuses a request signed outside the clock window', () => {
    const realNow = Date.now;
    Date.now = () => realNow() - 120_000;
    const h = signRequest(creds, 'GET', '/v1/status');
    Date.now = realNow;
    expect(verifyRequest(headersOf(h), 'GET', '/v1/status', '', secretFor, new NonceCache())).toEqual({
      ok: false,
      reason: 'clock',
    });
  });
});
