/** The address a request came from (client-address.mjs). */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedList: string | undefined,
): string;
