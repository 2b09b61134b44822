import { request } from 'undici';
import { exposeSecret, type Secret } from '../secret/secret.js';

/** What one probe request saw. */
export interface HttpProbeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Response body as text (bounded by `maxBodyBytes`). */
  body: string;
  /** Parses the body as JSON; `undefined` when it is not JSON. */
  json<T = unknown>(): T | undefined;
}

export interface HttpProbeOptions {
  method?: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  /** Header values may be Secrets; they are exposed only on the wire. */
  headers?: Record<string, string | Secret<string>>;
  /** A JSON body (serialized, with `content-type: application/json`). */
  json?: unknown;
  signal?: AbortSignal;
  /** Per-request timeout in ms. @default 2000 */
  timeoutMs?: number;
  /** Bodies longer than this are truncated, in bytes. @default 1048576 */
  maxBodyBytes?: number;
}

/**
 * One HTTP request for probes and health checks, on undici with a hard timeout.
 * Never throws for an HTTP status; throws for network errors, timeouts and aborts.
 */
export async function httpProbe(url: string, options: HttpProbeOptions = {}): Promise<HttpProbeResponse> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const maxBody = options.maxBodyBytes ?? 1_048_576;
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {}))
    headers[name.toLowerCase()] = exposeSecret(value);
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  const response = await request(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    signal: AbortSignal.any(signals),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    const buffer = chunk as Buffer;
    if (size < maxBody) chunks.push(buffer.subarray(0, maxBody - size));
    size += buffer.length;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return {
    status: response.statusCode,
    headers: response.headers,
    body: text,
    json<T>() {
      try {
        return JSON.parse(text) as T;
      } catch {
        return undefined;
      }
    },
  };
}
