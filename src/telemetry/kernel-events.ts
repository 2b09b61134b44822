import type { ProgressReport } from '../backend/backend.js';
import type { MemoryHolder } from '../errors/error-catalog.js';

/** Where an instance's memory figure came from. */
export type MemorySource = 'configured' | 'calibrated' | 'estimated' | 'none';

/** Fields on every instance event. */
export interface InstanceEventBase {
  instanceId: string;
  instanceKey: string;
  backend: string;
  /** Epoch ms when the event was emitted. */
  at: number;
}

/** Fields on every lease event. */
export interface LeaseEventBase {
  leaseRef: string;
  instanceId: string;
  backend: string;
  ownerRef: string;
  at: number;
}

/** Why an instance stopped. */
export type StopReason = 'requested' | 'idle' | 'close' | 'failed' | 'aborted' | 'evicted';

/** Every telemetry event the kernel emits, by name (guides/telemetry.md). Durations are in ms. */
export interface KernelEventMap {
  'instance.starting': InstanceEventBase & { attempt: number; port?: number };
  'instance.spawned': InstanceEventBase & { pid: number; port?: number; spawnMs: number };
  /** A server a previous daemon started was taken over instead of spawned (guides/durable-state.md). */
  'instance.adopted': InstanceEventBase & { pid: number; port?: number; ownerMarker: string };
  'instance.progress': InstanceEventBase & ProgressReport;
  /** `readyMs`: from the start of this attempt to ready; `queuedMs`: time spent before the start began. */
  'instance.ready': InstanceEventBase & { readyMs: number; queuedMs: number; pid?: number; port?: number };
  'instance.degraded': InstanceEventBase & { detail: string; consecutiveFailures: number };
  'instance.recovered': InstanceEventBase & { degradedMs: number };
  'instance.exited': InstanceEventBase & {
    pid?: number;
    exitCode: number | null;
    signal: string | null;
    expected: boolean;
  };
  'instance.restarting': InstanceEventBase & { restart: number; delayMs: number };
  'instance.failed': InstanceEventBase & { error: { code: string; message: string } };
  'instance.stopped': InstanceEventBase & { reason: StopReason; uptimeMs: number | null };
  'lease.acquired': LeaseEventBase & {
    ttlMs: number;
    expiresAt: number;
    waitedMs: number;
    exclusive: boolean;
  };
  'lease.renewed': LeaseEventBase & { ttlMs: number; expiresAt: number };
  'lease.released': LeaseEventBase & { heldMs: number };
  'lease.expired': LeaseEventBase & { heldMs: number };
  'lease.revoked': LeaseEventBase & { heldMs: number; reason: string };
  /** The start was admitted: `bytes` charged per device (`source`: how the need was known), after `waitedMs`. */
  'residency.admitted': InstanceEventBase & {
    bytes: Record<string, number>;
    source: MemorySource;
    waitedMs: number;
    evicted: string[];
  };
  /** The start waits for memory: its place in the queue and the instances holding what it needs. */
  'residency.queued': InstanceEventBase & {
    bytes: Record<string, number>;
    position: number;
    blocking: MemoryHolder[];
  };
  /** This idle instance is stopped to make room for `forInstanceId`. */
  'residency.evicting': InstanceEventBase & {
    reason: 'memory';
    bytes: Record<string, number>;
    forInstanceId: string;
    forBackend: string;
    idleMs: number;
  };
  /** Fairness bound: this leased instance takes no new leases until it is evicted for `forInstanceId`. */
  'residency.draining': InstanceEventBase & { forInstanceId: string; forBackend: string; waitedMs: number };
  /** The start was refused: `never` when it exceeds the whole budget, else its queue deadline passed. */
  'residency.refused': InstanceEventBase & {
    bytes: Record<string, number>;
    never: boolean;
    waitedMs: number;
    message: string;
  };
  /** The server reported what it allocated; kept as the key's need for the next start. */
  'residency.calibrated': InstanceEventBase & {
    bytes: Record<string, number>;
    estimated: Record<string, number>;
  };
  'probe.failed': InstanceEventBase & { probe: 'readiness' | 'health' | 'functional'; detail: string };
}
export type KernelEventName = keyof KernelEventMap;
export type KernelEvent = { [K in KernelEventName]: { type: K } & KernelEventMap[K] }[KernelEventName];
export type KernelEventListener<K extends KernelEventName> = (event: KernelEventMap[K] & { type: K }) => void;
