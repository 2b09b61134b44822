import { z } from 'zod';
import { defineContract } from './define-contract.js';
import { msSchema } from './duration-ms.js';
import {
  capabilitiesSchema,
  executionSurfaceSchema,
  headersSchema,
  managementModeSchema,
  metadataSchema,
  protocolSchema,
  startupKindSchema,
} from './vocabulary.js';

const ms = msSchema;

/** How to run a spawned process. Arguments are an array: no shell is ever involved. */
export const transportSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Environment added to the kernel's own (`PATH`, `HOME`, … are inherited unless overridden). */
  env: z.record(z.string(), z.string()).default({}),
  /** Inherited variables removed from the child's environment (e.g. ones that would silently change its flags). */
  unsetEnv: z.array(z.string().min(1)).default([]),
  cwd: z.string().min(1).optional(),
  executionSurface: executionSurfaceSchema.default('local_subprocess'),
});
export type Transport = z.output<typeof transportSchema>;

/** Exponential backoff with jitter between restarts, and the crash-loop circuit breaker. */
export const restartPolicySchema = z.strictObject({
  /** `on_failure` restarts after an unexpected exit; `never` marks the instance failed. */
  mode: z.enum(['on_failure', 'never']).default('on_failure'),
  /** Crashes allowed within `windowMs` before the instance is `failed` with `crash_loop`. @default 5 */
  maxRestarts: z.number().int().nonnegative().default(5),
  /** Crash-counting window in ms. @default 60000 */
  windowMs: ms.default(60_000),
  /** First backoff delay in ms. @default 250 */
  backoffBaseMs: ms.default(250),
  /** Multiplier per consecutive crash. @default 2 */
  backoffFactor: z.number().min(1).default(2),
  /** Largest backoff delay in ms. @default 10000 */
  backoffMaxMs: ms.default(10_000),
  /** Fraction of the delay randomized (0–1). @default 0.2 */
  jitter: z.number().min(0).max(1).default(0.2),
});
export type RestartPolicy = z.output<typeof restartPolicySchema>;

/** The endpoint a ready instance publishes, before lease fields are added. */
export const endpointTemplateSchema = z.strictObject({
  protocol: protocolSchema,
  /** Base URL clients use; ends in `/v1` for OpenAI protocols. */
  baseUrl: z.url(),
  headers: headersSchema.default({}),
  providerIdentity: z.string().optional(),
  modelIdentity: z.string().optional(),
  sourceRuntimeRef: z.string().optional(),
  capabilities: capabilitiesSchema.default({}),
  metadata: metadataSchema.default({}),
});
export type EndpointTemplate = z.output<typeof endpointTemplateSchema>;

/** What a backend returns for a spec: everything the kernel needs to start, watch and publish it. */
export const startupPlanSchema = z.strictObject({
  /** Stable key: equal keys share one instance. Must not contain secrets. */
  instanceKey: z.string().min(1).max(512),
  startupKind: startupKindSchema,
  managementMode: managementModeSchema,
  /** Required for spawned plans, forbidden for attached ones. */
  transport: transportSchema.optional(),
  /** TCP port the instance serves on, when known. */
  port: z.number().int().min(1).max(65_535).optional(),
  /** Hard cap on readiness, in ms. @default 60000 */
  readyTimeoutMs: ms.default(60_000),
  /** Fail readiness when neither output nor probe progress was seen for this long, in ms. @default 30000 */
  stallTimeoutMs: ms.default(30_000),
  /** First readiness probe interval in ms; backs off to `readinessMaxIntervalMs`. @default 10 */
  readinessIntervalMs: ms.default(10),
  /** Largest readiness probe interval in ms. @default 500 */
  readinessMaxIntervalMs: ms.default(500),
  /** Per-probe timeout in ms. @default 2000 */
  probeTimeoutMs: ms.default(2_000),
  /** Liveness check interval while ready, in ms. @default 5000 */
  healthIntervalMs: ms.default(5_000),
  /** Functional check interval (if the backend has one), in ms. @default 30000 */
  functionalHealthIntervalMs: ms.default(30_000),
  /** Consecutive failed health checks before `degraded`. @default 3 */
  healthFailureThreshold: z.number().int().positive().default(3),
  /** Stop the instance after this long with no lease, in ms; `null` = never. @default 300000 */
  idleShutdownMs: ms.nullable().default(300_000),
  /** SIGTERM → SIGKILL grace, in ms. @default 5000 */
  stopTimeoutMs: ms.default(5_000),
  /** How many times a start retries on a new port after losing a bind race. @default 3 */
  portRetries: z.number().int().nonnegative().default(3),
  restartPolicy: restartPolicySchema.default(restartPolicySchema.parse({})),
  /** Most leases at once; unset = unlimited. */
  maxLeases: z.number().int().positive().optional(),
  /** Never evicted to make room for another instance (idle shutdown still applies). @default false */
  pin: z.boolean().default(false),
  /** Eviction order among idle instances: lower priorities go first, then least recently used. @default 0 */
  priority: z.number().int().min(-1000).max(1000).default(0),
  /**
   * Memory the instance needs per device (`system`, `gpu0`…), in bytes, when the backend cannot estimate it or
   * the estimate should be overridden (guides/residency.md).
   */
  memoryBytes: z.record(z.string().regex(/^(system|gpu\d+)$/), z.number().int().nonnegative()).optional(),
  endpointTemplate: endpointTemplateSchema,
  /** Opaque backend state handed back to the backend's probes. */
  backendState: metadataSchema.default({}),
});
export type StartupPlan = z.output<typeof startupPlanSchema>;
export type StartupPlanInput = z.input<typeof startupPlanSchema>;

export const startupPlanContract = defineContract('StartupPlan', 'invalid_startup_plan', startupPlanSchema);
export const parseStartupPlan = startupPlanContract.parse;
export const safeParseStartupPlan = startupPlanContract.safeParse;
