// Setup shared by the llama-cpp tests: a temp directory per test file (for fake binaries and models) and the
// KernelError a promise rejects with.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

export { rejectedKernelError as failure } from '../../support/kernel-errors.js';
