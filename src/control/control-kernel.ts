import type { CompatibilityResult } from '../contracts/compatibility-result.js';
import type { ConsumerManifestInput } from '../contracts/consumer-manifest.js';
import type { EndpointDescriptor } from '../contracts/endpoint-descriptor.js';
import type {
  EndpointRequestInput,
  EnsureEndpointOptionsInput,
  ExecutionContextInput,
} from '../contracts/endpoint-request.js';
import type { InstanceSpecInput } from '../contracts/instance-spec.js';
import type { Lease } from '../contracts/lease.js';
import type { RuntimeSnapshot } from '../contracts/runtime-snapshot.js';
import type { AdoptionReport } from '../kernel/adopt-instances.js';
import type { LogEntry } from '../process/log-ring.js';
import type { ResidencySnapshot } from '../residency/residency.js';
import type { KernelEvent } from '../telemetry/kernel-events.js';

/**
 * The part of the kernel (src/kernel/kernel.ts) the control plane serves. Declared structurally so the control server
 * depends on the kernel's contract, not its implementation.
 */
export interface ControlKernel {
  ensureEndpoint(
    request: EndpointRequestInput,
    consumer: ConsumerManifestInput,
    context: ExecutionContextInput,
    options: EnsureEndpointOptionsInput,
  ): Promise<{ endpoint: EndpointDescriptor; compatibility: CompatibilityResult; lease: Lease }>;
  ensureInstance(
    spec: InstanceSpecInput,
    options?: { signal?: AbortSignal; readyTimeoutMs?: number },
  ): Promise<{ instance: RuntimeSnapshot; reused: boolean }>;
  renewLease(leaseRef: string, ttlMs?: number): Lease | Promise<Lease>;
  releaseLease(leaseRef: string): unknown;
  listInstances(): RuntimeSnapshot[];
  /** Residency's budgets, charges and queue; absent or null without residency. */
  memory?(): ResidencySnapshot | null;
  /** Live leases of one instance. */
  listLeases(instanceId: string): Lease[];
  lookupInstance(instanceId: string): RuntimeSnapshot | undefined;
  stopInstance(instanceId: string): Promise<unknown>;
  /** Stops an instance at once (`now`) or when its last lease ends, taking no new caller meanwhile. */
  retireInstance(instanceId: string, options?: { now?: boolean }): Promise<void>;
  /** The last `n` output lines of an instance. @throws InstanceNotFoundError */
  instanceLogs(instanceId: string, n?: number): string[];
  /** Calls `listener` for each new output line; returns the unsubscribe function. @throws InstanceNotFoundError */
  followInstanceLogs(instanceId: string, listener: (entry: LogEntry) => void): () => void;
  on(name: '*', listener: (event: KernelEvent) => void): () => void;
  /** What the kernel did with its predecessor's servers; absent or null without a store. */
  adoption?(): Promise<AdoptionReport | null>;
  /** When an instance was adopted from a previous daemon (`shic ps`); undefined when this daemon started it. */
  adoptionOf?(instanceId: string): { adoptedAt: number; adoptions: number } | undefined;
  close(options?: { keep?: boolean }): Promise<void>;
}
