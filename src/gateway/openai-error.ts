import { statusForCode } from '../control/error-mapping.js';
import { KernelError } from '../errors/kernel-error.js';

/** The error body OpenAI's API (and so every OpenAI client) understands. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

/** An error answer: status, OpenAI-shaped body, extra headers (`retry-after`). */
export interface OpenAiErrorResponse {
  status: number;
  body: OpenAiErrorBody;
  headers: Record<string, string>;
}

// Gateway codes first; the kernel's codes keep the control API's statuses (src/control/error-mapping.ts).
const GATEWAY_STATUS: Record<string, number> = {
  unknown_model: 404,
  queue_full: 429,
  model_wait_timeout: 503,
  first_byte_timeout: 504,
  idle_timeout: 504,
  total_timeout: 504,
  upstream_failed: 502,
  unauthorized: 401,
  method_not_allowed: 405,
  invalid_api_key: 401,
};

function typeFor(status: number, code: string): string {
  if (status === 401) return 'authentication_error';
  if (status === 404) return code === 'unknown_model' ? 'invalid_request_error' : 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status < 500) return 'invalid_request_error';
  return code.endsWith('_timeout') ? 'timeout_error' : 'server_error';
}

/** An OpenAI-shaped error answer for a code and message. */
export function openAiError(
  status: number,
  code: string,
  message: string,
  param: string | null = null,
  headers: Record<string, string> = {},
): OpenAiErrorResponse {
  return { status, body: { error: { message, type: typeFor(status, code), code, param } }, headers };
}

/**
 * Maps anything thrown while serving a gateway request to OpenAI's error shape, keeping the kernel's stable
 * `code` (statuses in guides/gateway.md). A non-kernel error is a 500 that hides internals.
 */
export function toOpenAiError(error: unknown): OpenAiErrorResponse {
  if (!KernelError.isInstance(error)) {
    return openAiError(500, 'internal_error', 'Internal error in the shic gateway.');
  }
  const status = GATEWAY_STATUS[error.code] ?? statusForCode(error.code);
  const retryAfter = error.details.retryAfterS;
  const headers: Record<string, string> =
    typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {};
  const field = error.details.field;
  return openAiError(status, error.code, error.message, typeof field === 'string' ? field : null, headers);
}
