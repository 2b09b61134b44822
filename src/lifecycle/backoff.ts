import type { RestartPolicy } from '../contracts/startup-plan.js';

/** The part of a restart policy that shapes the delay between restarts. */
export type BackoffPolicy = Pick<
  RestartPolicy,
  'backoffBaseMs' | 'backoffFactor' | 'backoffMaxMs' | 'jitter'
>;

/**
 * Delay before restart number `attempt` (0 = the first restart), in ms: `base · factor^attempt`, capped at
 * `backoffMaxMs`, then lowered by up to `jitter` of itself so restarts of many instances spread out.
 * Jitter only ever lowers the delay, so the cap is a true upper bound.
 * @param random a source in [0, 1); injectable for tests. @default Math.random
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.floor(attempt));
  const raw = policy.backoffBaseMs * policy.backoffFactor ** exponent;
  const capped = Math.min(policy.backoffMaxMs, Number.isFinite(raw) ? raw : policy.backoffMaxMs);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(0, Math.round(capped * (1 - policy.jitter * r)));
}
