// Setup shared by the llama-cpp tests: a temp directory per test file (for fake binaries and models) and the
// KernelError a promise rejects with.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KernelError } from 'self-hosted-inference-core';
import { afterAll, beforeAll } from 'vitest';

/** Creates a temp directory (named `prefix…`) before the file's tests and removes it after; returns its path. */
export function useTempDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (!dir) throw new Error('useTempDir: the directory exists only inside tests (after beforeAll)');
    return dir;
  };
}

/** The KernelError `promise` rejects with (fails the test when it resolves or rejects with something else). */
export async function failure(promise: Promise<unknown>): Promise<KernelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!KernelError.isInstance(error)) throw new Error(`expected a KernelError, got ${String(error)}`);
  return error;
}
