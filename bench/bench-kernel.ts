// Kernels, requests and process checks the benchmarks share: real kernels over real backends in a temp stateDir.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Backend } from '../src/backend/backend.js';
import type { ConsumerManifestInput } from '../src/contracts/consumer-manifest.js';
import type { EndpointRequestInput, ExecutionContextInput } from '../src/contracts/endpoint-request.js';
import { createKernel } from '../src/kernel/create-kernel.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { createStandInBackend } from '../test/support/stand-in-backend.js';
import type { BenchContext } from './benchmark.js';

/** A consumer every spawned OpenAI-compatible backend satisfies. */
export const BENCH_CONSUMER: ConsumerManifestInput = {
  consumer: 'bench',
  acceptedRuntimeKinds: ['service'],
  acceptedManagementModes: ['kernel_managed'],
  acceptedProtocols: ['openai_chat_completions'],
  requiredCapabilities: { streaming: true },
};

/** An execution context for bench requests. */
export const BENCH_CONTEXT: ExecutionContextInput = { runId: 'bench-run', attemptId: 'attempt-1' };

/** An `ensureEndpoint` request for a backend and boot spec. */
export function benchRequest(backend: string, bootSpec: Record<string, unknown>): EndpointRequestInput {
  return { requestId: 'bench-req', targetPreference: { backend, bootSpec } };
}

/** Creates a kernel with these backends in a fresh temp stateDir; closing and removal are deferred. */
export async function benchKernel(context: BenchContext, backends: Backend[]): Promise<Kernel> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'shic-bench-'));
  const kernel = createKernel({ stateDir, backends });
  context.defer(async () => {
    await kernel.close();
    await rm(stateDir, { recursive: true, force: true });
  });
  return kernel;
}

/** True while a process with this pid exists (a zombie counts as existing). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Resolves once `condition()` is true, checking on every turn of the event loop; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * The stand-in backend (a real HTTP server process per instance) with an `instanceKey` hook, so warm ensures
 * take the kernel's no-plan fast path instead of planning (and allocating a port) on every call.
 */
export function benchStandInBackend(): Backend {
  const backend = createStandInBackend();
  return {
    ...backend,
    instanceKey: (spec) =>
      `${backend.id}:${(spec.bootSpec as { name?: string } | undefined)?.name ?? 'default'}`,
  };
}
