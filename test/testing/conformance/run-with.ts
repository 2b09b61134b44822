// Starts a conformance run for a test and always disposes of it.
import type { Backend, InstanceSpecInput } from 'self-hosted-inference-core';
import { type ConformanceRun, startConformanceRun } from 'self-hosted-inference-core/testing';

/** Runs `fn` on a started run; the kernel is closed and its state removed afterwards, whatever happened. */
export async function withRun<T>(
  backend: Backend,
  spec: InstanceSpecInput,
  fn: (run: ConformanceRun) => Promise<T> | T,
  kind: 'spawned' | 'attached' = 'spawned',
): Promise<T> {
  const run = await startConformanceRun(backend, spec, { kind, readyTimeoutMs: 30_000 });
  try {
    return await fn(run);
  } finally {
    await run.dispose();
  }
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but it resolved');
}
