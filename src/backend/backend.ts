import type { Logger } from 'pino';
import type { BackendManifestInput } from '../contracts/backend-manifest.js';
import type { InstanceSpec } from '../contracts/instance-spec.js';
import type { Lease } from '../contracts/lease.js';
import type { HealthStatus } from '../contracts/runtime-snapshot.js';
import type { StartupPlan, StartupPlanInput } from '../contracts/startup-plan.js';
import type { BackendId } from '../contracts/vocabulary.js';
import type { KernelError } from '../errors/kernel-error.js';

/** Handed to `Backend.startupPlan`. */
export interface PlanContext {
  /** A free TCP port on `host` (default 127.0.0.1); called again on each bind-race retry. */
  allocatePort(host?: string): Promise<number>;
  /** Aborts when the caller gives up. */
  signal: AbortSignal;
  logger: Logger;
}

/** The running instance, as probes and hooks see it. */
export interface InstanceTarget {
  instanceId: string;
  /** The validated plan the instance was started from. */
  plan: StartupPlan;
  /** The published base URL (from `plan.endpointTemplate.baseUrl`). */
  baseUrl: string;
  /** Process id, for spawned instances once started. */
  pid?: number;
}

/** Handed to probes and hooks. */
export interface ProbeContext {
  /** Aborts at the per-probe timeout (`plan.probeTimeoutMs`) or when the kernel stops waiting. */
  signal: AbortSignal;
  logger: Logger;
  /** Reports progress (e.g. a model pull) to telemetry and the CLI's progress display. */
  reportProgress(progress: ProgressReport): void;
}

/** Progress of a long step, for humans and telemetry. */
export interface ProgressReport {
  /** Short phase name, e.g. `loading`, `pulling`. */
  phase: string;
  message: string;
  /** 0–100 when known. */
  percent?: number;
}

/**
 * Result of one readiness probe.
 * - `ready`: serve traffic now.
 * - `pending`: not yet; `timeoutError` replaces the generic `readiness_timeout` if time runs out
 *   (e.g. Ollama's `model_not_found` with a pull hint).
 * - `failed`: will never become ready; the start fails at once with `error`.
 */
export type ReadinessResult =
  | { status: 'ready'; detail?: string; metadata?: Record<string, unknown> }
  | { status: 'pending'; detail?: string; timeoutError?: KernelError }
  | { status: 'failed'; error: KernelError };

/** One problem `Backend.checkSpec` found in a spec. */
export interface SpecIssue {
  /** Dotted path inside the spec, e.g. `bootSpec.model` or `bootSpec.ctx_size`. */
  field: string;
  /** A stable code, e.g. `invalid_boot_spec`, `model_not_found`, `binary_not_found`. */
  code: string;
  /** What is wrong and what to do. */
  message: string;
}

/** Result of one health check. */
export interface HealthResult {
  status: HealthStatus;
  /** Human-readable reason, shown in snapshots (e.g. "model installed but not loaded"). */
  detail?: string;
  metadata?: Record<string, unknown>;
}

/** A line of output or the exit of a spawned process. */
export type ProcessEvent =
  | { type: 'stdout' | 'stderr'; line: string }
  | { type: 'exit'; exitCode: number | null; signal: string | null };

/** What a backend learned from a process event; every field is optional. */
export interface ProcessEventVerdict {
  /** The log says the server is ready; the kernel confirms with one probe before believing it. */
  ready?: boolean;
  /** The log says the port was already taken; the kernel retries on a new port. */
  addressInUse?: boolean;
  /** Load progress to show. */
  progress?: ProgressReport;
  /**
   * The server reported allocating a buffer (e.g. llama-server's `… buffer size = N MiB`). The kernel sums an
   * attempt's reports per device and, once ready, keeps them as the measured need of the instance key.
   */
  memoryReport?: { device: string; bytes: number; kind?: string };
}

/** Memory an instance will need before it starts, per device (`system`, `gpu0`…), in bytes. */
export interface MemoryEstimate {
  bytes: Record<string, number>;
  /** Parts of the figure (e.g. `weights`, `kv`, `compute`), in bytes, for people and benchmarks. */
  detail?: Record<string, number>;
}

/**
 * A backend: the extension point of the kernel, version 1.
 *
 * A backend turns an `InstanceSpec` into a `StartupPlan` and judges readiness and health. The kernel does
 * everything else (ports, processes, restarts, leases, publication). Implement this interface in your own
 * package, importing only types and helpers from `self-hosted-inference-core`.
 */
export interface Backend {
  /** Literal version tag; future versions form a discriminated union. */
  readonly specificationVersion: 'v1';
  /** Registry id, equal to `manifest.backend`. */
  readonly id: BackendId;
  /** What the backend claims; validated at registration and held against every plan. */
  readonly manifest: BackendManifestInput;

  /**
   * Builds the plan for a spec. Must be pure apart from `context.allocatePort()`: validate the spec and
   * throw a `KernelError` (e.g. `invalid_boot_spec`) for bad input. Called again on each port retry.
   * @throws KernelError for an invalid spec.
   */
  startupPlan(spec: InstanceSpec, context: PlanContext): Promise<StartupPlanInput> | StartupPlanInput;

  /**
   * The instance key `startupPlan` would return for this spec, computed without side effects (no port
   * allocation, no I/O). Optional but recommended: the kernel uses it to find a serving instance without
   * planning, which keeps a warm `ensureEndpoint` in microseconds. Must equal the plan's `instanceKey`.
   */
  instanceKey?(spec: InstanceSpec): string;

  /**
   * Checks the world before anything is spawned (binary runs, model file exists). Called once per start.
   * @throws KernelError such as `binary_not_found` or `model_not_found`, naming the path and the fix.
   */
  preflight?(plan: StartupPlan, context: ProbeContext): Promise<void>;

  /**
   * Static checks of a spec with nothing started and no port taken: boot spec fields, model file, binary. `shic
   * config check` and `shic up` run it for every deployment and refuse the config (naming the YAML line) when
   * it returns issues. Without it, such mistakes surface at the first start.
   * @returns every problem found (empty when the spec looks startable); never throws for a bad spec.
   */
  checkSpec?(spec: InstanceSpec): Promise<SpecIssue[]>;

  /** One readiness probe; the kernel handles intervals, timeouts and retries. Must not throw for "not yet". */
  probeReadiness(target: InstanceTarget, context: ProbeContext): Promise<ReadinessResult>;

  /** A cheap liveness check, run every `plan.healthIntervalMs` while ready. */
  checkHealth(target: InstanceTarget, context: ProbeContext): Promise<HealthResult>;

  /**
   * An optional functional check (e.g. a 1-token completion), run every `plan.functionalHealthIntervalMs`,
   * for servers whose liveness endpoint answers 200 while broken.
   */
  checkFunctional?(target: InstanceTarget, context: ProbeContext): Promise<HealthResult>;

  /** Sees each output line and the exit of a spawned process; may report readiness, bind races or progress. */
  onProcessEvent?(event: ProcessEvent, target: InstanceTarget): ProcessEventVerdict | undefined;

  /**
   * What the instance will need in memory, per device, before it starts: the kernel admits the start only when
   * it fits the budget (evicting idle instances if needed). Without it, a spawned instance is charged the
   * deployment's `memory` if configured, else nothing (guides/residency.md). Must not start anything.
   * @returns `undefined` when the backend cannot tell.
   */
  estimateMemory?(
    plan: StartupPlan,
    context: { signal: AbortSignal; logger: Logger },
  ): Promise<MemoryEstimate | undefined> | MemoryEstimate | undefined;

  /** Called after a lease is granted (e.g. Ollama's keep-alive warm-up). Errors are logged, not thrown. */
  onLease?(target: InstanceTarget, lease: Lease, context: ProbeContext): Promise<void>;

  /**
   * Called when the kernel stops an instance, before any signal (spawned) or instead of anything
   * (attached). Must not stop an externally managed daemon unless the user asked for it.
   */
  shutdown?(target: InstanceTarget, context: ProbeContext): Promise<void>;
}

/** True when a value looks like a v1 backend (used by the registry and config loader). */
export function isBackendV1(value: unknown): value is Backend {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Partial<Backend>;
  return (
    b.specificationVersion === 'v1' &&
    typeof b.id === 'string' &&
    typeof b.startupPlan === 'function' &&
    typeof b.probeReadiness === 'function' &&
    typeof b.checkHealth === 'function'
  );
}
