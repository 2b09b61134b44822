// What every benchmark module exports, and the context the runner hands it.
import type { BenchResult } from './report.js';

/** Handed to each benchmark by `bench/run.ts`. */
export interface BenchContext {
  /** Writes one progress line to stderr, prefixed with the benchmark id. */
  progress(message: string): void;
  /** Registers cleanup that runs even when the benchmark throws (last registered runs first). */
  defer(cleanup: () => Promise<void> | void): void;
}

/** One benchmark: an id for argv selection and a run that measures figures against their baselines. */
export interface Benchmark {
  /** Short id used on the command line (`npm run bench -- warm cold`). */
  id: string;
  title: string;
  run(context: BenchContext): Promise<Omit<BenchResult, 'id' | 'title' | 'durationMs'>>;
}
