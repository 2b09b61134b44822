import { z } from 'zod';
import { defineContract } from './define-contract.js';
import { restartPolicySchema, startupPlanSchema } from './startup-plan.js';

// The ranges come from the startup plan itself (defaults unwrapped), so a policy accepts exactly what a plan does.
const plan = startupPlanSchema.shape;
const restart = restartPolicySchema.shape;

/** Restart-policy fields a caller may override; each one given replaces the backend's, the rest stay. */
export const restartPolicyOverrideSchema = z.strictObject({
  /** `on_failure` restarts after an unexpected exit; `never` marks the instance failed at the first crash. */
  mode: restart.mode
    .unwrap()
    .optional()
    .describe(
      '`on_failure` restarts after an unexpected exit; `never` fails the instance at the first crash',
    ),
  /** Crashes allowed within `windowMs` before the instance fails with `crash_loop`. */
  maxRestarts: restart.maxRestarts
    .unwrap()
    .optional()
    .describe('Crashes allowed within `windowMs` before the instance fails with `crash_loop`'),
  /** Crash-counting window, in ms. */
  windowMs: restart.windowMs.unwrap().optional().describe('Crash-counting window, in ms'),
  /** First backoff delay before a restart, in ms. */
  backoffBaseMs: restart.backoffBaseMs
    .unwrap()
    .optional()
    .describe('First backoff delay before a restart, in ms'),
  /** Multiplier per consecutive crash (≥ 1). */
  backoffFactor: restart.backoffFactor.unwrap().optional().describe('Multiplier per consecutive crash'),
  /** Largest backoff delay, in ms. */
  backoffMaxMs: restart.backoffMaxMs.unwrap().optional().describe('Largest backoff delay, in ms'),
  /** Fraction of each delay randomized (0–1). */
  jitter: restart.jitter.unwrap().optional().describe('Fraction of each delay randomized'),
});
export type RestartPolicyOverride = z.output<typeof restartPolicyOverrideSchema>;

/**
 * Per-request overrides of a backend's startup plan: each field given replaces the plan's value (the restart
 * policy field by field) before the plan is validated. Nothing is defaulted here: an absent field keeps the
 * backend's value. A policy is not part of the instance key (backends ignore `spec.policy`).
 */
export const planPolicySchema = z.strictObject({
  /** Hard cap on readiness, in ms. */
  readyTimeoutMs: plan.readyTimeoutMs.unwrap().optional().describe('Hard cap on readiness, in ms'),
  /** Fail readiness when neither output nor probe progress was seen for this long, in ms. */
  stallTimeoutMs: plan.stallTimeoutMs
    .unwrap()
    .optional()
    .describe('Fail readiness when neither output nor probe progress was seen for this long, in ms'),
  /** Liveness check interval while ready, in ms. */
  healthIntervalMs: plan.healthIntervalMs
    .unwrap()
    .optional()
    .describe('Liveness check interval while ready, in ms'),
  /** Functional check interval (for backends that have one), in ms. */
  functionalHealthIntervalMs: plan.functionalHealthIntervalMs
    .unwrap()
    .optional()
    .describe('Functional check interval (for backends that have one), in ms'),
  /** Consecutive failed health checks before the instance is `degraded` (≥ 1). */
  healthFailureThreshold: plan.healthFailureThreshold
    .unwrap()
    .optional()
    .describe('Consecutive failed health checks before the instance is `degraded`'),
  /** Stop the instance after this long with no lease, in ms; `null` = never. */
  idleShutdownMs: plan.idleShutdownMs
    .unwrap()
    .optional()
    .describe('Stop the instance after this long with no lease, in ms; `null` = never'),
  /** SIGTERM → SIGKILL grace when stopping, in ms. */
  stopTimeoutMs: plan.stopTimeoutMs
    .unwrap()
    .optional()
    .describe('SIGTERM → SIGKILL grace when stopping, in ms'),
  /** Most leases held at once (≥ 1); further callers get `capacity_exhausted` or wait. */
  maxLeases: plan.maxLeases.describe(
    'Most leases held at once; further callers get `capacity_exhausted` or wait',
  ),
  /** Restart policy fields to replace (the others keep the backend's values). */
  pin: plan.pin.unwrap().optional().describe('Never evicted to make room for another instance'),
  priority: plan.priority
    .unwrap()
    .optional()
    .describe('Eviction order among idle instances: lower goes first, then least recently used'),
  memoryBytes: plan.memoryBytes.describe(
    "Memory needed per device (`system`, `gpu0`…), in bytes, instead of the backend's estimate",
  ),
  restartPolicy: restartPolicyOverrideSchema
    .optional()
    .describe("Restart policy fields to replace (the others keep the backend's values)"),
});
export type PlanPolicy = z.output<typeof planPolicySchema>;
export type PlanPolicyInput = z.input<typeof planPolicySchema>;

export const planPolicyContract = defineContract('PlanPolicy', 'invalid_request', planPolicySchema);
export const parsePlanPolicy = planPolicyContract.parse;
export const safeParsePlanPolicy = planPolicyContract.safeParse;
