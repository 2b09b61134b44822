import { type ContractIssue, ContractValidationError } from '../errors/error-catalog.js';

/** What `LeaseTable.acquire` needs to pin an instance. */
export interface LeaseRequest {
  /** Instance to lease. */
  instanceId: string;
  /** Backend id of the instance; copied into every lease event. */
  backend: string;
  /** Who holds the lease (a caller-chosen, human-readable reference). */
  ownerRef: string;
  /** Time-to-live in ms, counted from acquisition and from each renew. Positive integer. @default the table's `defaultTtlMs` */
  ttlMs?: number;
  /** An exclusive lease is only granted when the instance has no other live lease, and blocks all others. @default false */
  exclusive?: boolean;
  /** Capacity of the instance: at most this many live leases. Positive integer. @default unlimited */
  maxLeases?: number;
  /** Free-form metadata stored on the lease (e.g. requestId, runId, traceId). Stored by reference. @default {} */
  metadata?: Record<string, unknown>;
  /** Aborts a wait for capacity with an `AbortedError`; an already aborted signal fails at once. */
  signal?: AbortSignal;
  /**
   * How long to wait, in ms, for capacity when the instance is full; 0 fails at once with
   * `CapacityExhaustedError`; `Infinity` waits until a slot frees, the signal aborts or the instance is revoked.
   * @default the table's `defaultCapacityWaitMs`
   */
  capacityWaitMs?: number;
}

function describe(value: unknown): string {
  const kind = value === null ? 'null' : typeof value;
  // Objects are named by kind only: String() of an arbitrary object may throw or print a credential.
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'array' : 'object';
  return `${kind} ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
}

function issue(path: string, expected: string, received: unknown): ContractIssue {
  return { path, message: `must be ${expected} (received ${describe(received)})`, received };
}

// Hand-written rather than zod: this runs on every acquire, the kernel's hot path.
/**
 * Checks a lease request's fields; changes nothing.
 * @throws {ContractValidationError} code `invalid_lease_request`, one issue per bad field.
 */
export function checkLeaseRequest(request: LeaseRequest): void {
  const issues: ContractIssue[] = [];
  if (typeof request !== 'object' || request === null) {
    throw new ContractValidationError('invalid_lease_request', 'LeaseRequest', [
      issue('', 'an object', request),
    ]);
  }
  for (const field of ['instanceId', 'backend', 'ownerRef'] as const) {
    const value = request[field];
    if (typeof value !== 'string' || value.length === 0)
      issues.push(issue(field, 'a non-empty string', value));
  }
  const { ttlMs, maxLeases, capacityWaitMs, exclusive, metadata, signal } = request;
  if (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && ttlMs > 0))
    issues.push(issue('ttlMs', 'a positive integer number of ms', ttlMs));
  if (maxLeases !== undefined && !(Number.isSafeInteger(maxLeases) && maxLeases > 0))
    issues.push(issue('maxLeases', 'a positive integer', maxLeases));
  if (capacityWaitMs !== undefined && !(typeof capacityWaitMs === 'number' && capacityWaitMs >= 0))
    issues.push(issue('capacityWaitMs', 'a number of ms >= 0 (or Infinity)', capacityWaitMs));
  if (exclusive !== undefined && typeof exclusive !== 'boolean')
    issues.push(issue('exclusive', 'a boolean', exclusive));
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  )
    issues.push(issue('metadata', 'a plain object', metadata));
  if (signal !== undefined && !(signal instanceof AbortSignal))
    issues.push(issue('signal', 'an AbortSignal', signal));
  if (issues.length > 0) {
    throw new ContractValidationError('invalid_lease_request', 'LeaseRequest', issues, {
      ...(typeof request.instanceId === 'string' ? { instanceId: request.instanceId } : {}),
    });
  }
}

/**
 * Checks a renew TTL.
 * @throws {ContractValidationError} code `invalid_lease_request` when `ttlMs` is not a positive integer.
 */
export function checkRenewTtl(ttlMs: number | undefined): void {
  if (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && ttlMs > 0)) {
    throw new ContractValidationError('invalid_lease_request', 'LeaseRenewal', [
      issue('ttlMs', 'a positive integer number of ms', ttlMs),
    ]);
  }
}

/**
 * Checks a `LeaseTable`'s defaults.
 * @throws {ContractValidationError} `invalid_lease_request` naming `defaultTtlMs` or `defaultCapacityWaitMs`.
 */
export function checkTableDefaults(defaultTtlMs: number, defaultCapacityWaitMs: number): void {
  const issues: ContractIssue[] = [];
  if (!(Number.isSafeInteger(defaultTtlMs) && defaultTtlMs > 0))
    issues.push(issue('defaultTtlMs', 'a positive integer number of ms', defaultTtlMs));
  if (!(typeof defaultCapacityWaitMs === 'number' && defaultCapacityWaitMs >= 0))
    issues.push(issue('defaultCapacityWaitMs', 'a number of ms >= 0 (or Infinity)', defaultCapacityWaitMs));
  if (issues.length > 0)
    throw new ContractValidationError('invalid_lease_request', 'LeaseTableOptions', issues);
}
