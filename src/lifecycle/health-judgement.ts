import type { HealthStatus } from '../contracts/runtime-snapshot.js';
import type { HealthObservation } from './health-monitor.js';

/** What one health observation changes. */
export interface HealthVerdict {
  /** The health to show now, or null to keep the current one (a healthy answer while another check fails). */
  health: HealthStatus | null;
  /** `degrade`: ready → degraded; `recover`: degraded → ready; null: no state change. */
  transition: 'degrade' | 'recover' | null;
}

/**
 * Judges a health observation: the shown health follows the latest failing answer at once, but the state
 * changes only after `threshold` consecutive failures of one check (→ degraded), and recovers only when the
 * latest answer of every check is healthy (→ ready).
 */
export function judgeHealth(input: {
  state: 'ready' | 'degraded';
  observation: HealthObservation;
  failures: { health: number; functional: number };
  threshold: number;
}): HealthVerdict {
  const { state, observation, failures, threshold } = input;
  const allHealthy = failures.health === 0 && failures.functional === 0;
  const health = observation.status !== 'healthy' ? observation.status : allHealthy ? 'healthy' : null;
  if (state === 'ready' && observation.consecutiveFailures >= threshold)
    return { health, transition: 'degrade' };
  if (state === 'degraded' && allHealthy) return { health, transition: 'recover' };
  return { health, transition: null };
}
