// 10.2: the client address the sign-in throttle counts by (scripts/serve.mjs sets it as X-Forwarded-For).
import { describe, expect, it } from 'vitest';

import { clientAddress } from '../scripts/client-address.mjs';

describe('10.2 the client address', () => {
  it('10.2 is the socket’s peer: a client’s own X-Forwarded-For is not believed', () => {
    expect(clientAddress('203.0.113.7', '10.0.0.1', undefined)).toBe('203.0.113.7');
    expect(clientAddress('::ffff:127.0.0.1', '1.2.3.4, 5.6.7.8', '')).toBe('127.0.0.1');
    expect(clientAddress(undefined, undefined, undefined)).toBe('unknown');
  });

  it('10.2 behind a trusted proxy, is the nearest address the proxies did not add', () => {
    const proxies = '10.0.0.2, 10.0.0.3';
    // The client wrote 1.1.1.1 itself; the first proxy saw 198.51.100.9 and appended it; the second appended the first.
    expect(clientAddress('10.0.0.3', '1.1.1.1, 198.51.100.9, 10.0.0.2', proxies)).toBe('198.51.100.9');
    expect(clientAddress('::ffff:10.0.0.2', ['198.51.100.9'], proxies)).toBe('198.51.100.9');
    // A proxy that sent no header, or only proxies: the socket's peer.
    expect(clientAddress('10.0.0.2', undefined, proxies)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '10.0.0.3', proxies)).toBe('10.0.0.2');
    // Not a trusted proxy: its header is the client's word.
    expect(clientAddress('203.0.113.7', '198.51.100.9', proxies)).toBe('203.0.113.7');
  });
});
