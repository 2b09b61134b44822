import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { elapsed, percentile, summarize } from '../../bench/stats.js';

describe('percentile', () => {
  it('interpolates between the two nearest ranks', () => {
    const sorted = [10, 20, 30, 40];
    expect(percentile(sorted, 0)).toBe(10);
    expect(percentile(sorted, 1)).toBe(40);
    expect(percentile(sorted, 0.5)).toBe(25);
    expect(percentile(sorted, 1 / 3)).toBeCloseTo(20, 10);
  });

  it('returns the only sample for every p', () => {
    expect(percentile([7], 0)).toBe(7);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it('rejects an empty sample set and a p outside [0, 1]', () => {
    expect(() => percentile([], 0.5)).toThrow(RangeError);
    expect(() => percentile([1], 1.5)).toThrow(/within \[0, 1\]/);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('reports median, p99, min, max, mean and the count of unsorted samples', () => {
    const samples = Array.from({ length: 101 }, (_, i) => 100 - i);
    expect(summarize(samples)).toEqual({ runs: 101, median: 50, p99: 99, min: 0, max: 100, mean: 50 });
  });

  it('takes the mean of the middle pair as the median of an even count', () => {
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });

  it('leaves the input array unchanged', () => {
    const samples = [3, 1, 2];
    summarize(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('rejects an empty sample set and non-finite samples', () => {
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow(/not a finite number/);
  });

  it('orders min ≤ median ≤ p99 ≤ max, with the mean between min and max, for any samples', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (samples) => {
          const s = summarize(samples);
          expect(s.runs).toBe(samples.length);
          expect(s.min).toBeLessThanOrEqual(s.median);
          expect(s.median).toBeLessThanOrEqual(s.p99);
          expect(s.p99).toBeLessThanOrEqual(s.max);
          expect(s.mean).toBeGreaterThanOrEqual(s.min - 1e-6);
          expect(s.mean).toBeLessThanOrEqual(s.max + 1e-6);
        },
      ),
    );
  });
});

describe('elapsed', () => {
  it('converts hrtime nanoseconds to µs or ms', () => {
    expect(elapsed(1_000n, 3_500n)).toBe(2.5);
    expect(elapsed(0n, 2_500_000n, 'ms')).toBe(2.5);
  });
});
