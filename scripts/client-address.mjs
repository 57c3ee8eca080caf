// The address a request came from, for the sign-in throttle: the socket's peer, unless that peer is a proxy named
// in LIFELINE_TRUSTED_PROXIES, in which case the nearest address in X-Forwarded-For that is not a trusted proxy
// (each proxy appends the address it saw, so everything to its left may be made up by the client).

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address. */
function normalize(address) {
  const a = String(address ?? '')
    .trim()
    .toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** @param {string | undefined} peer @param {string | string[] | undefined} forwardedFor @param {string | undefined} trustedList */
export function clientAddress(peer, forwardedFor, trustedList) {
  const trusted = new Set(
    String(trustedList ?? '')
      .split(',')
      .map(normalize)
      .filter(Boolean),
  );
  const socket = normalize(peer) || 'unknown';
  if (!trusted.has(socket) || !forwardedFor) return socket;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map(normalize);
  for (let i = hops.length - 1; i >= 0; i--) if (hops[i] && !trusted.has(hops[i])) return hops[i];
  return socket;
}
