import { isIP } from 'node:net';

/**
 * The host a client puts in a URL to reach a server bound to `bindHost`: a wildcard bind (`0.0.0.0`, `::`, or
 * empty) is dialled on loopback, and an IPv6 literal gets brackets (`::1` → `[::1]`).
 */
export function clientHost(bindHost: string): string {
  const bare = bindHost.replace(/^\[|\]$/g, '');
  if (bare === '' || bare === '0.0.0.0') return '127.0.0.1';
  if (bare === '::') return '[::1]';
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}
