// Which addresses a webhook may reach: public ones, unless an admin allowed private ones for it. Checked on the
// address each connection is made to (http's `lookup`), so a name that resolves differently the second time (DNS
// rebinding) gains nothing.
import 'server-only';

import { lookup as dnsLookup } from 'node:dns';
import net, { type LookupFunction } from 'node:net';

const PRIVATE = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(prefix, bits, 'ipv6');

/** Loopback, private, carrier-grade NAT, link-local, unique-local, multicast, unspecified (IPv4-mapped too). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  const family = net.isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class AddressRefused extends Error {}

/** A `lookup` for http.request that refuses private addresses. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as { address: string; family: number }[];
    const refused = list.find((a) => isPrivateAddress(a.address));
    if (refused)
      return callback(
        new AddressRefused(
          `${hostname} resolves to ${refused.address}, a private or local address: an admin may allow that for this webhook`,
        ),
        '',
        0,
      );
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    callback(null, list[0].address, list[0].family);
  });
};
