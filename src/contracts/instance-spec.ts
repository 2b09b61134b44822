import { z } from 'zod';
import { defineContract } from './define-contract.js';
import { planPolicySchema } from './plan-policy.js';
import { backendIdSchema, executionSurfaceSchema, metadataSchema, startupKindSchema } from './vocabulary.js';

/** What a backend is asked to plan: built from an `EndpointRequest`, or passed to `ensureInstance` directly. */
export const instanceSpecSchema = z.strictObject({
  backend: backendIdSchema,
  startupKind: startupKindSchema.optional(),
  /** Backend-specific options (attach spec). */
  backendOptions: metadataSchema.default({}),
  /** Backend-specific boot spec (spawned). */
  bootSpec: metadataSchema.optional(),
  executionSurface: executionSurfaceSchema.optional(),
  /** Model the caller wants, when the backend serves a named model. */
  modelIdentity: z.string().min(1).optional(),
  /** Copied into the instance's snapshot metadata; never part of the instance key. */
  metadata: metadataSchema.default({}),
  /**
   * Overrides of the backend's startup plan (timeouts, health, idle shutdown, capacity, restart policy),
   * applied before the plan is validated. Not part of the instance key: callers whose specs differ only in
   * policy share one instance, and the policy of the call that started it wins (later calls' policies are
   * ignored until it stops).
   */
  policy: planPolicySchema.optional(),
});
export type InstanceSpec = z.output<typeof instanceSpecSchema>;
export type InstanceSpecInput = z.input<typeof instanceSpecSchema>;

export const instanceSpecContract = defineContract('InstanceSpec', 'invalid_request', instanceSpecSchema);
export const parseInstanceSpec = instanceSpecContract.parse;
export const safeParseInstanceSpec = instanceSpecContract.safeParse;
