import { describe, expect, it } from 'vitest';

import {
  ACTION_BODY_LIMIT,
  allowedHosts,
  contentSecurityPolicy,
  refuseActionBody,
  refuseRequest,
  securityHeaders,
} from './http-security';

const request = (method: string, headers: Record<string, string>) => ({
  method,
  headers: { get: (name: string) => headers[name.toLowerCase()] ?? null },
});

describe('10.3 which requests the dashboard answers', () => {
  const env = { LIFELINE_URL: 'http://backup.example.lan:3000' };

  it('10.3 answers localhost, the loopback addresses and the host of its public address, and no other Host', () => {
    expect(allowedHosts(env)).toEqual(['localhost', '127.0.0.1', '[::1]', 'backup.example.lan']);
    for (const host of ['127.0.0.1:3000', 'localhost', 'BACKUP.example.lan:3000', '[::1]:3000'])
      expect(refuseRequest(request('GET', { host }), env), host).toBeNull();
    for (const host of ['evil.example', 'evil.example:3000', '127.0.0.1.evil.example', '', 'a b'])
      expect(refuseRequest(request('GET', { host }), env)?.status, host).toBe(421);
    expect(refuseRequest(request('GET', {}), env)?.status).toBe(421);
  });

  it('10.3 LIFELINE_ALLOWED_HOSTS replaces the default list', () => {
    const custom = { ...env, LIFELINE_ALLOWED_HOSTS: 'console.example.com, 10.0.0.5' };
    expect(refuseRequest(request('GET', { host: 'console.example.com' }), custom)).toBeNull();
    expect(refuseRequest(request('GET', { host: '10.0.0.5:3000' }), custom)).toBeNull();
    expect(refuseRequest(request('GET', { host: 'localhost:3000' }), custom)?.status).toBe(421);
  });

  it('10.3 refuses a server action from another origin with 403, and takes one from its own', () => {
    const action = (origin?: string) =>
      refuseRequest(
        request('POST', { host: '127.0.0.1:3000', 'next-action': 'abc', ...(origin ? { origin } : {}) }),
        env,
      );
    expect(action('http://127.0.0.1:3000')).toBeNull();
    expect(action('http://127.0.0.1:4000')?.status).toBe(403);
    expect(action('http://evil.example')?.status).toBe(403);
    expect(action('null')?.status).toBe(403);
    // A plain form post (no action header) and a POST without Origin are left to the page and to Next.js.
    expect(refuseRequest(request('POST', { host: '127.0.0.1:3000', origin: 'http://evil.example' }), env)).toBeNull();
    expect(action()).toBeNull();
  });
});

describe('10.3 the headers every answer carries', () => {
  it('10.3 a policy with the nonce, no framing, no plugins; HSTS only over https', () => {
    const policy = contentSecurityPolicy('bm9uY2U=', { NODE_ENV: 'production' });
    expect(policy).toContain("script-src 'self' 'nonce-bm9uY2U=' 'strict-dynamic'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("object-src 'none'");
    expect(policy).not.toContain('unsafe-eval');
    expect(securityHeaders({ LIFELINE_URL: 'http://127.0.0.1:3000' })).toEqual({
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    });
    expect(securityHeaders({ LIFELINE_URL: 'https://backup.example.com' })['Strict-Transport-Security']).toBe(
      'max-age=31536000',
    );
  });
});

describe('10.6 a server action’s body is read before any action runs', () => {
  const call = (body: BodyInit, headers: Record<string, string> = {}) =>
    new Request('http://127.0.0.1:3000/backups', {
      method: 'POST',
      headers: { 'next-action': '7f00', ...headers },
      body,
    });
  const form = (fields: Record<string, string>) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.append(k, v);
    return f;
  };

  it('10.6 passes what the browser sends, and requests that are no action', async () => {
    expect(await refuseActionBody(call('[{"snapshot":"a","path":"/"}]'))).toBeNull();
    expect(await refuseActionBody(call(form({ 0: '[null,"$K1"]', '1_name': 'x{[' })))).toBeNull();
    expect(
      await refuseActionBody(new Request('http://127.0.0.1:3000/backups', { method: 'POST', body: 'x' })),
    ).toBeNull();
  });

  it('10.6 refuses a body over the limit with 413, and one that is not JSON or nests too deep with 400', async () => {
    const big = 'a'.repeat(ACTION_BODY_LIMIT + 1);
    expect((await refuseActionBody(call(`["${big}"]`)))?.status).toBe(413);
    expect((await refuseActionBody(call(form({ 0: '[null,"$K1"]', '1_name': big }))))?.status).toBe(413);
    expect((await refuseActionBody(call('not json')))?.status).toBe(400);
    expect((await refuseActionBody(call(form({ 0: '[null,"$Q1"]', 1: '[1,2' }))))?.status).toBe(400);
    expect((await refuseActionBody(call(`${'['.repeat(33)}${']'.repeat(33)}`)))?.status).toBe(400);
    // Brackets inside strings are text, not nesting.
    expect(await refuseActionBody(call(`["${'['.repeat(100)}\\"${'{'.repeat(100)}"]`))).toBeNull();
  });
});
