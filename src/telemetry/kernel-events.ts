import type { ProgressReport } from '../backend/backend.js';

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
export type StopReason = 'requested' | 'idle' | 'close' | 'failed' | 'aborted';

/** Every telemetry event the kernel emits, by name (guides/telemetry.md). Durations are in ms. */
export interface KernelEventMap {
  'instance.starting': InstanceEventBase & { attempt: number; port?: number };
  'instance.spawned': InstanceEventBase & { pid: number; port?: number; spawnMs: number };
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
  'probe.failed': InstanceEventBase & { probe: 'readiness' | 'health' | 'functional'; detail: string };
}
export type KernelEventName = keyof KernelEventMap;
export type KernelEvent = { [K in KernelEventName]: { type: K } & KernelEventMap[K] }[KernelEventName];
export type KernelEventListener<K extends KernelEventName> = (event: KernelEventMap[K] & { type: K }) => void;
