import { describe, expect, it } from 'vitest';
import { restartPolicySchema } from '../../src/contracts/startup-plan.js';
import { CrashLoopBreaker } from '../../src/lifecycle/crash-loop-breaker.js';

const policy = (overrides: Record<string, unknown> = {}) =>
  restartPolicySchema.parse({ maxRestarts: 2, windowMs: 1000, backoffBaseMs: 100, jitter: 0, ...overrides });

describe('CrashLoopBreaker', () => {
  it('restarts with growing backoff until more than maxRestarts crashes fall in the window', () => {
    const breaker = new CrashLoopBreaker(policy());
    expect(breaker.recordCrash(0)).toEqual({ action: 'restart', delayMs: 100, crashesInWindow: 1 });
    expect(breaker.recordCrash(10)).toEqual({ action: 'restart', delayMs: 200, crashesInWindow: 2 });
    expect(breaker.recordCrash(20)).toEqual({ action: 'fail', reason: 'crash_loop', crashesInWindow: 3 });
  });

  it('forgets crashes older than the window, so occasional crashes never trip it', () => {
    const breaker = new CrashLoopBreaker(policy());
    for (let i = 0; i < 10; i += 1) {
      expect(breaker.recordCrash(i * 1000).action).toBe('restart');
    }
  });

  it('fails at once when the mode is never', () => {
    expect(new CrashLoopBreaker(policy({ mode: 'never' })).recordCrash(0)).toMatchObject({
      action: 'fail',
      reason: 'never',
    });
  });

  it('starts counting afresh after reset', () => {
    const breaker = new CrashLoopBreaker(policy());
    breaker.recordCrash(0);
    breaker.recordCrash(1);
    breaker.reset();
    expect(breaker.recordCrash(2)).toMatchObject({ action: 'restart', crashesInWindow: 1 });
  });

  it('builds a crash_loop error naming the instance, the count and the policy', () => {
    const error = new CrashLoopBreaker(policy()).error({ instanceId: 'x-1', backend: 'stand-in' }, 3);
    expect(error.code).toBe('crash_loop');
    expect(error.instanceId).toBe('x-1');
    expect(error.message).toContain('3 times within 1000 ms');
    expect(error.details).toMatchObject({ crashes: 3, maxRestarts: 2, windowMs: 1000 });
  });
});
