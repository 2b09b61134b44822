import type { EndpointDescriptor } from '../contracts/endpoint-descriptor.js';
import { exposeSecret } from '../secret/secret.js';

/**
 * The descriptor as the control API returns it from `POST /v1/endpoints/ensure`: header Secrets exposed.
 *
 * Decision: the caller of ensure has authenticated with the daemon's bearer token and needs the real auth
 * header to talk to the endpoint it was leased, so this one response body carries it. Nothing else does:
 * `GET /v1/instances`, events, logs, metrics and `shic ps` serialize descriptors through `Secret.toJSON`,
 * which prints `[redacted]`, and the daemon never logs request or response bodies.
 */
export function exposeDescriptor(endpoint: EndpointDescriptor): Record<string, unknown> {
  const headers = Object.fromEntries(Object.entries(endpoint.headers).map(([k, v]) => [k, exposeSecret(v)]));
  return { ...JSON.parse(JSON.stringify(endpoint)), headers };
}
