import { describe, expect, it } from 'vitest';

import { isPrivateAddress } from './address-policy';

describe('10.5 which addresses a webhook may reach without an admin’s leave', () => {
  it('10.5 loopback, private, link-local, unique-local, carrier-grade NAT, multicast and unspecified are private; others are not', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'not an address',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '93.184.216.34', '172.32.0.1', '2606:4700::1111', '::ffff:1.1.1.1'])
      expect(isPrivateAddress(a), a).toBe(false);
  });
});
