import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/lifecycle/backoff.js';

const policy = { backoffBaseMs: 250, backoffFactor: 2, backoffMaxMs: 10_000, jitter: 0.2 };

describe('backoffDelay', () => {
  it('grows exponentially from the base without jitter', () => {
    const none = { ...policy, jitter: 0 };
    expect([0, 1, 2, 3].map((n) => backoffDelay(none, n))).toEqual([250, 500, 1000, 2000]);
  });

  it('caps the delay at backoffMaxMs, even for huge attempt numbers', () => {
    expect(backoffDelay({ ...policy, jitter: 0 }, 10)).toBe(10_000);
    expect(backoffDelay({ ...policy, jitter: 0 }, 5000)).toBe(10_000);
  });

  it('lowers the delay by at most the jitter fraction', () => {
    expect(backoffDelay(policy, 0, () => 0)).toBe(250);
    expect(backoffDelay(policy, 0, () => 0.999_999)).toBe(200);
  });

  it('always stays within [delay·(1−jitter), min(delay, cap)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 100 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (base, factor, max, jitter, attempt, r) => {
          const p = { backoffBaseMs: base, backoffFactor: factor, backoffMaxMs: max, jitter };
          const delay = backoffDelay(p, attempt, () => r);
          const ideal = Math.min(max, base * factor ** attempt);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ideal * (1 - jitter)) - 1);
          expect(delay).toBeLessThanOrEqual(Math.ceil(ideal));
        },
      ),
    );
  });
});
