import { z } from 'zod';
import { defineContract } from './define-contract.js';
import { msSchema, positiveMsSchema } from './duration-ms.js';
import { planPolicySchema } from './plan-policy.js';
import { backendIdSchema, executionSurfaceSchema, metadataSchema, startupKindSchema } from './vocabulary.js';

/** Which backend to use and how to boot it. */
export const targetPreferenceSchema = z.strictObject({
  /** Registered backend id. */
  backend: backendIdSchema,
  startupKind: startupKindSchema.optional(),
  /** Backend-specific options (attach spec for attached backends). */
  backendOptions: metadataSchema.default({}),
  /** Backend-specific boot spec for spawned backends (model path, flags, …). */
  bootSpec: metadataSchema.optional(),
  executionSurface: executionSurfaceSchema.optional(),
  metadata: metadataSchema.default({}),
  /**
   * Overrides of the backend's startup plan (timeouts, health, idle shutdown, capacity, restart policy),
   * applied before the plan is validated. Not part of the instance key: callers whose specs differ only in
   * policy share one instance, and the policy of the call that started it wins (later calls' policies are
   * ignored until it stops).
   */
  policy: planPolicySchema.optional(),
});

/** The request half of `ensureEndpoint` (SHIC shape). */
export const endpointRequestSchema = z.strictObject({
  requestId: z.string().min(1),
  targetPreference: targetPreferenceSchema,
  modelPreference: z.strictObject({ id: z.string().min(1) }).optional(),
});
export type EndpointRequest = z.output<typeof endpointRequestSchema>;
export type EndpointRequestInput = z.input<typeof endpointRequestSchema>;

/** Who is asking: copied into instance and lease metadata for tracing. */
export const executionContextSchema = z.strictObject({
  runId: z.string().min(1),
  attemptId: z.string().min(1),
  boundaryRef: z.string().min(1).optional(),
  observability: z.strictObject({ traceId: z.string().min(1).optional() }).default({}),
});
export type ExecutionContext = z.output<typeof executionContextSchema>;
export type ExecutionContextInput = z.input<typeof executionContextSchema>;

/** Options of `ensureEndpoint` (the AbortSignal is passed beside them, not validated here). */
export const ensureEndpointOptionsSchema = z.strictObject({
  /** Who holds the lease (a worker id, a run id, …). */
  ownerRef: z.string().min(1),
  /** Lease time-to-live in ms. @default the kernel's `defaultLeaseTtlMs` */
  ttlMs: positiveMsSchema.optional(),
  /** Ask for an exclusive lease: no other lease may share the instance while it is held. */
  exclusive: z.boolean().default(false),
  /** How long to wait for a lease slot when the instance is at capacity, in ms. @default 0 (fail at once) */
  capacityWaitMs: msSchema.default(0),
  metadata: metadataSchema.default({}),
});
export type EnsureEndpointOptions = z.output<typeof ensureEndpointOptionsSchema>;
export type EnsureEndpointOptionsInput = z.input<typeof ensureEndpointOptionsSchema> & {
  signal?: AbortSignal;
};

export const endpointRequestContract = defineContract(
  'EndpointRequest',
  'invalid_request',
  endpointRequestSchema,
);
export const parseEndpointRequest = endpointRequestContract.parse;
export const safeParseEndpointRequest = endpointRequestContract.safeParse;
export const executionContextContract = defineContract(
  'ExecutionContext',
  'invalid_request',
  executionContextSchema,
);
export const parseExecutionContext = executionContextContract.parse;
export const safeParseExecutionContext = executionContextContract.safeParse;
export const ensureEndpointOptionsContract = defineContract(
  'EnsureEndpointOptions',
  'invalid_request',
  ensureEndpointOptionsSchema,
);
export const parseEnsureEndpointOptions = ensureEndpointOptionsContract.parse;
