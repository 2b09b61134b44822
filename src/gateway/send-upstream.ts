import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { EndpointDescriptor } from '../contracts/endpoint-descriptor.js';
import { GatewayTimeoutError, UpstreamFailedError } from '../errors/error-catalog.js';
import { errorCode } from '../http/error-code.js';
import { exposeSecret } from '../secret/secret.js';

/** One request to a model server. */
export interface UpstreamCall {
  endpoint: EndpointDescriptor;
  /** Path below `/v1` with its query, e.g. `/chat/completions`. */
  path: string;
  body: Buffer;
  /** The client's `accept` header, passed on. */
  accept: string | undefined;
  firstByteMs: number;
  idleMs: number;
  signal: AbortSignal;
}

/** Connection failures that prove the upstream never saw the request (or died before answering a byte). */
const NOTHING_SENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** True when a failed upstream call may be retried without duplicating work (nothing came back). */
export function failedBeforeResponse(error: unknown): boolean {
  return UpstreamFailedError.isInstance(error) && NOTHING_SENT.has(String(error.details.cause ?? ''));
}

/**
 * Sends one request upstream with undici and returns once the response headers arrived; the body is left to
 * the caller to stream. `firstByteMs` bounds the wait for headers, `idleMs` every gap between body chunks.
 * @throws GatewayTimeoutError (`first_byte_timeout`), UpstreamFailedError (`upstream_failed`, with the socket
 *   error code in `details.cause`), or the signal's reason when it aborted.
 */
export async function sendUpstream(
  dispatcher: Dispatcher,
  call: UpstreamCall,
): Promise<Dispatcher.ResponseData> {
  const base = new URL(call.endpoint.baseUrl);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(call.body.length),
  };
  if (call.accept) headers.accept = call.accept;
  for (const [name, value] of Object.entries(call.endpoint.headers))
    headers[name.toLowerCase()] = exposeSecret(value);
  try {
    return await dispatcher.request({
      origin: base.origin,
      path: `${base.pathname.replace(/\/+$/, '')}${call.path}`,
      method: 'POST',
      headers,
      body: call.body,
      signal: call.signal,
      headersTimeout: call.firstByteMs,
      bodyTimeout: call.idleMs,
    });
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason;
    throw upstreamError(error, call);
  }
}

/** Maps an undici failure (before or during the body) to the gateway's typed errors. */
export function upstreamError(
  error: unknown,
  call: Pick<UpstreamCall, 'endpoint' | 'firstByteMs' | 'idleMs'>,
) {
  const code = errorCode(error);
  const instanceId = call.endpoint.healthRef;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new GatewayTimeoutError(
      'first_byte',
      call.firstByteMs,
      `The model server sent no response within ${call.firstByteMs} ms (timeouts.firstByteMs).`,
      { instanceId, cause: error },
    );
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayTimeoutError(
      'idle',
      call.idleMs,
      `The model server sent nothing for ${call.idleMs} ms mid-answer (timeouts.idleMs).`,
      { instanceId, cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamFailedError(`The model server failed: ${message}${code ? ` (${code})` : ''}.`, {
    instanceId,
    cause: error,
    details: { cause: code ?? null },
  });
}

/** Response headers passed to the client: hop-by-hop ones dropped (Node sets its own framing). */
export function passThroughHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    switch (name) {
      case 'connection':
      case 'keep-alive':
      case 'transfer-encoding':
      case 'proxy-connection':
      case 'upgrade':
      case 'trailer':
      case 'te':
        continue;
      default:
        out[name] = value;
    }
  }
  return out;
}
