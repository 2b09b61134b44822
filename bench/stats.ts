// Summary statistics for benchmark samples: the figures every row of the report carries.

/** Median, p99, min, max, mean and count of a set of samples, in the samples' unit. */
export interface Summary {
  /** Number of samples. */
  runs: number;
  median: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * The `p`-quantile (0 ≤ p ≤ 1) of ascending-sorted samples, linearly interpolated between the two nearest
 * ranks (the common "type 7" definition, as in numpy and R's default), so the median of an even count is the
 * mean of the middle pair.
 * @throws RangeError for an empty array or `p` outside [0, 1].
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty sample set');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile p must be within [0, 1], got ${p}`);
  const rank = (sorted.length - 1) * p;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low]!;
  const b = sorted[high]!;
  return a + (b - a) * (rank - low);
}

/**
 * Summarizes samples (any order; the input is not modified).
 * @throws RangeError for an empty sample set or a non-finite sample.
 */
export function summarize(samples: ArrayLike<number>): Summary {
  if (samples.length === 0) throw new RangeError('cannot summarize an empty sample set');
  const sorted = Float64Array.from(samples as ArrayLike<number>);
  let total = 0;
  for (const value of sorted) {
    if (!Number.isFinite(value)) throw new RangeError(`sample ${value} is not a finite number`);
    total += value;
  }
  sorted.sort();
  return {
    runs: sorted.length,
    median: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: total / sorted.length,
  };
}

/** Nanoseconds between two `process.hrtime.bigint()` readings, as a number of `unit`s (default µs). */
export function elapsed(start: bigint, end: bigint, unit: 'us' | 'ms' = 'us'): number {
  return Number(end - start) / (unit === 'us' ? 1_000 : 1_000_000);
}
