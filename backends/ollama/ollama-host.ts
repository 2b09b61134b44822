import { isIP } from 'node:net';
import { clientHost, InvalidBootSpecError } from 'self-hosted-inference-core';

/** Where a client finds Ollama when nothing is configured. */
export const DEFAULT_OLLAMA_ROOT = 'http://127.0.0.1:11434';

const DEFAULT_OLLAMA_PORT = '11434';

// Go's net.SplitHostPort: "[v6]:port", "host:port" or ":port"; anything else (no port, bare IPv6) fails.
function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0 || hostport[close + 1] !== ':') return undefined;
    return { host: hostport.slice(1, close), port: hostport.slice(close + 2) };
  }
  const colon = hostport.indexOf(':');
  if (colon < 0 || hostport.indexOf(':', colon + 1) >= 0) return undefined;
  return { host: hostport.slice(0, colon), port: hostport.slice(colon + 1) };
}

function stripTrailing(path: string): string {
  let p = path.replace(/\/+$/, '');
  if (p.endsWith('/v1')) p = p.slice(0, -3).replace(/\/+$/, '');
  return p;
}

/**
 * Turns an Ollama address, in any form `OLLAMA_HOST` accepts, into the root URL a client uses.
 *
 * Follows Ollama's own parser (`envconfig.Host()`): surrounding spaces and quotes are ignored; without a
 * scheme the scheme is `http` and the default port 11434; `http://` and `https://` without a port default to
 * 80 and 443; `host`, `host:port`, `:port`, `[::1]:port`, `::1` and a proxy path (`https://h/ollama`) all
 * work. For a client, the bind-all addresses `0.0.0.0`, `::` and an empty host mean loopback. A trailing `/`,
 * a trailing `/v1`, a query and a fragment are dropped, so an OpenAI-style base URL also works.
 * Unlike Ollama, which silently falls back to the default port, an invalid port is an error.
 *
 * @param value The address, e.g. `options.rootUrl ?? process.env.OLLAMA_HOST`; empty or unset → the default.
 * @returns A root URL without trailing slash, e.g. `http://127.0.0.1:11434` or `https://example.com/ollama`.
 * @throws InvalidBootSpecError (`invalid_boot_spec`) for an unsupported scheme, an invalid port or host.
 */
export function resolveOllamaRoot(value?: string): string {
  const raw = (value ?? '')
    .trim()
    .replace(/^["']+|["']+$/g, '')
    .trim();
  if (raw === '') return DEFAULT_OLLAMA_ROOT;
  const fail = (why: string): never => {
    throw new InvalidBootSpecError(
      `Invalid Ollama address ${JSON.stringify(value)}: ${why}. Use a form like "127.0.0.1:11434", ":11434" or "http://host:11434" (option rootUrl or OLLAMA_HOST).`,
      { backend: 'ollama', details: { field: 'rootUrl', received: value } },
    );
  };

  let scheme = 'http';
  let defaultPort = DEFAULT_OLLAMA_PORT;
  let rest = raw;
  const schemeEnd = raw.indexOf('://');
  if (schemeEnd >= 0) {
    scheme = raw.slice(0, schemeEnd).toLowerCase();
    rest = raw.slice(schemeEnd + 3);
    if (scheme === 'http') defaultPort = '80';
    else if (scheme === 'https') defaultPort = '443';
    else fail(`scheme "${scheme}" is not supported (use http or https)`);
  }
  rest = rest.replace(/[?#].*$/, '');
  const slash = rest.indexOf('/');
  const hostport = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash) : '';

  let host: string;
  let port: string;
  const split = splitHostPort(hostport);
  if (split) {
    ({ host, port } = split);
  } else {
    const bare = hostport.replace(/^\[|\]$/g, '');
    host = isIP(bare) ? bare : hostport === '' ? '127.0.0.1' : hostport;
    port = defaultPort;
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
    fail(`port "${port}" is not a number from 1 to 65535`);
  }
  const hostPart = clientHost(host);
  let url: URL;
  try {
    url = new URL(`${scheme}://${hostPart}:${port}${path}`);
  } catch {
    return fail(`"${hostport}" is not a valid host`);
  }
  return `${url.protocol}//${url.host}${stripTrailing(url.pathname)}`;
}
