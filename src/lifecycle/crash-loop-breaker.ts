import type { RestartPolicy } from '../contracts/startup-plan.js';
import { CrashLoopError } from '../errors/error-catalog.js';
import { backoffDelay } from './backoff.js';

/** What to do after a crash: restart after `delayMs`, or give up. */
export type CrashDecision =
  | { action: 'restart'; delayMs: number; crashesInWindow: number }
  | { action: 'fail'; reason: 'never' | 'crash_loop'; crashesInWindow: number };

/**
 * The restart policy's circuit breaker: counts crashes in a sliding window and decides between a restart
 * with exponential backoff and giving up. More than `maxRestarts` crashes within `windowMs` trips it.
 */
export class CrashLoopBreaker {
  readonly #policy: RestartPolicy;
  readonly #random: () => number;
  #crashes: number[] = [];

  constructor(policy: RestartPolicy, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  /** Records a crash at `now` (epoch ms) and decides what happens next. */
  recordCrash(now: number): CrashDecision {
    this.#crashes = this.#crashes.filter((at) => now - at < this.#policy.windowMs);
    this.#crashes.push(now);
    const crashesInWindow = this.#crashes.length;
    if (this.#policy.mode === 'never') return { action: 'fail', reason: 'never', crashesInWindow };
    if (crashesInWindow > this.#policy.maxRestarts) {
      return { action: 'fail', reason: 'crash_loop', crashesInWindow };
    }
    const delayMs = backoffDelay(this.#policy, crashesInWindow - 1, this.#random);
    return { action: 'restart', delayMs, crashesInWindow };
  }

  /** Forgets every recorded crash (after a reset or a clean stop). */
  reset(): void {
    this.#crashes = [];
  }

  /** The typed error for a tripped breaker. */
  error(
    context: { instanceId: string; backend: string; lastLogLines?: string[] },
    crashes: number,
  ): CrashLoopError {
    const { maxRestarts, windowMs } = this.#policy;
    return new CrashLoopError(
      `Instance "${context.instanceId}" crashed ${crashes} times within ${windowMs} ms (restartPolicy.maxRestarts is ${maxRestarts}); it stays failed until kernel.stopInstance("${context.instanceId}") or a reset of its instance key.`,
      {
        instanceId: context.instanceId,
        backend: context.backend,
        ...(context.lastLogLines ? { lastLogLines: context.lastLogLines } : {}),
        details: { crashes, maxRestarts, windowMs },
      },
    );
  }
}
