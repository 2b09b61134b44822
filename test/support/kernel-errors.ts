// Typed-error assertions shared by the tests: what a call throws, or a promise rejects with, as a KernelError.
import { KernelError } from '../../src/errors/kernel-error.js';

/** Runs `fn` and returns the KernelError it throws; fails the test when it throws nothing or something else. */
export function thrownKernelError(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (error) {
    if (KernelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a KernelError');
}

/** The KernelError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function rejectedKernelError(promise: Promise<unknown>): Promise<KernelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!KernelError.isInstance(error)) throw new Error(`expected a KernelError, got ${String(error)}`);
  return error;
}
