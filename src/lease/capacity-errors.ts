import { AbortedError, CapacityExhaustedError } from '../errors/error-catalog.js';
import type { LeaseRequest } from './lease-request.js';

/** What the instance held when a request found no free slot. */
export interface CapacitySnapshot {
  instanceId: string;
  /** Live leases on the instance. */
  held: number;
  /** Whether one of them is exclusive. */
  exclusiveHeld: boolean;
}

/** The request's signal aborted before or while it waited for a slot. */
export function leaseAbortedError(request: LeaseRequest): AbortedError {
  return new AbortedError(`Lease request for instance "${request.instanceId}" was aborted.`, {
    instanceId: request.instanceId,
    backend: request.backend,
    cause: request.signal?.reason,
  });
}

/** No slot freed in time; names the instance, the limit that applied and how many leases are held. */
export function capacityExhaustedError(
  snapshot: CapacitySnapshot,
  request: LeaseRequest,
  waitedMs: number,
  capacityWaitMs: number,
): CapacityExhaustedError {
  const { instanceId, held, exclusiveHeld } = snapshot;
  const limit = exclusiveHeld
    ? 'it holds an exclusive lease'
    : request.exclusive === true
      ? 'an exclusive lease needs it to hold none'
      : `maxLeases is ${request.maxLeases}`;
  return new CapacityExhaustedError(
    `Instance "${instanceId}" has no free lease slot: ${held} live lease(s) held and ${limit}; ` +
      `waited ${waitedMs} ms (capacityWaitMs ${capacityWaitMs}). Release a lease, raise maxLeases, or wait longer.`,
    {
      instanceId,
      backend: request.backend,
      details: {
        held,
        maxLeases: request.maxLeases ?? null,
        exclusiveHeld,
        exclusiveRequested: request.exclusive === true,
        waitedMs,
      },
    },
  );
}
