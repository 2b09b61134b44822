import type { HealthStatus, InstanceState } from '../contracts/runtime-snapshot.js';

/**
 * Everything about an instance that changes while it lives, as one plain, JSON-serializable record: what a
 * snapshot projects and what a store can persist. It only changes through {@link applyInstanceChange}.
 */
export interface InstanceRecord {
  readonly instanceId: string;
  readonly instanceKey: string;
  readonly backend: string;
  readonly state: InstanceState;
  readonly health: HealthStatus;
  readonly healthDetail: string | null;
  /** Restarts after crashes so far. */
  readonly restarts: number;
  /** Start attempts so far (first start, port retries, restarts). */
  readonly attempt: number;
  /** Epoch ms of the current (or last) start, readiness, stop or failure, and of entering `degraded`. */
  readonly startedAt: number | null;
  readonly readyAt: number | null;
  readonly stoppedAt: number | null;
  readonly degradedAt: number | null;
  readonly lastError: { readonly code: string; readonly message: string } | null;
  /** Durations of the last start, in ms: `readyMs`, `queuedMs`, `spawnMs`. */
  readonly timings: Readonly<Record<string, number>>;
}

/** The fields a transition may change. */
export type InstanceChange = Partial<Omit<InstanceRecord, 'instanceId' | 'instanceKey' | 'backend'>>;

// The lifecycle (guides/readiness-and-health.md); staying in a state (a health update, a new attempt) is allowed.
const NEXT: Readonly<Record<InstanceState, readonly InstanceState[]>> = {
  starting: ['ready', 'failed', 'stopping'],
  ready: ['degraded', 'starting', 'failed', 'stopping'],
  degraded: ['ready', 'starting', 'failed', 'stopping'],
  stopping: ['stopped'],
  failed: [],
  stopped: [],
};

/** A fresh record: `starting`, nothing happened yet. */
export function initialInstanceRecord(ids: {
  instanceId: string;
  instanceKey: string;
  backend: string;
}): InstanceRecord {
  return Object.freeze({
    ...ids,
    state: 'starting',
    health: 'unavailable',
    healthDetail: 'starting',
    restarts: 0,
    attempt: 0,
    startedAt: null,
    readyAt: null,
    stoppedAt: null,
    degradedAt: null,
    lastError: null,
    timings: Object.freeze({}),
  });
}

/**
 * The record after `change`: a new frozen record (the old one is untouched).
 * @throws {Error} for a state change the lifecycle does not have (a kernel bug, never user input).
 */
export function applyInstanceChange(record: InstanceRecord, change: InstanceChange): InstanceRecord {
  const next = change.state;
  if (next !== undefined && next !== record.state && !NEXT[record.state].includes(next)) {
    throw new Error(`Instance "${record.instanceId}" cannot go from ${record.state} to ${next}.`);
  }
  return Object.freeze({
    ...record,
    ...change,
    timings: Object.freeze({ ...(change.timings ?? record.timings) }),
  });
}
