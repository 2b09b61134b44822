import { KernelError } from '../errors/kernel-error.js';

/** The JSON body of every control-API error: `{ error: { code, message, details } }`. */
export interface ControlErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

const STATUS_BY_CODE: Record<string, number> = {
  unauthorized: 401,
  csrf_failed: 403,
  instance_not_found: 404,
  lease_not_found: 404,
  unknown_deployment: 404,
  route_not_found: 404,
  incompatible: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  shutting_down: 503,
  capacity_exhausted: 503,
  readiness_timeout: 503,
  crash_loop: 503,
  kernel_closed: 503,
  instance_stopped: 503,
  service_unreachable: 503,
  insufficient_memory: 503,
};

/** HTTP status for a kernel error code: 400 for `invalid_*` and `unknown_backend`, else the table, else 500. */
export function statusForCode(code: string): number {
  const mapped = STATUS_BY_CODE[code];
  if (mapped !== undefined) return mapped;
  if (code.startsWith('invalid_') || code === 'unknown_backend' || code === 'bad_request') return 400;
  return 500;
}

/**
 * Maps any error thrown while serving a request to an HTTP status and body. Kernel errors keep their stable
 * `code` and JSON-safe details (secrets serialize as `[redacted]`); anything else is a 500 that hides internals.
 */
export function toErrorResponse(error: unknown): { status: number; body: ControlErrorBody } {
  if (KernelError.isInstance(error)) {
    const json = error.toJSON();
    const { name: _n, code: _c, message: _m, details, ...rest } = json;
    return {
      status: statusForCode(error.code),
      body: {
        error: {
          code: error.code,
          message: error.message,
          details: JSON.parse(JSON.stringify({ ...rest, ...(details as Record<string, unknown>) })),
        },
      },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'internal_error', message: 'Internal error in the control API.', details: {} } },
  };
}
