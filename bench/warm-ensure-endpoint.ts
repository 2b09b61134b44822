// Warm in-process ensureEndpoint (ready instance, new lease, release) against LeaseTable acquire+release alone.
import { createLlamaCppBackend } from '../backends/llama-cpp/index.js';
import type { Backend } from '../src/backend/backend.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { LeaseTable } from '../src/lease/lease-table.js';
import { realLlamaServer } from '../test/support/llama-fixture.js';
import {
  BENCH_CONSUMER,
  BENCH_CONTEXT,
  benchKernel,
  benchRequest,
  benchStandInBackend,
} from './bench-kernel.js';
import type { BenchContext, Benchmark } from './benchmark.js';
import { type Figure, figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const WARMUP = 3_000;
const SAMPLES = 10_000;

// One kernel sample and one floor sample per iteration, so both see the same GC and machine load.
async function measure(
  kernel: Kernel,
  request: ReturnType<typeof benchRequest>,
  label: string,
  context: BenchContext,
): Promise<Figure> {
  const table = new LeaseTable();
  context.defer(() => table.close());
  const floorRequest = { instanceId: 'floor', backend: 'floor', ownerRef: 'bench', ttlMs: 60_000 };
  const options = { ownerRef: 'bench-warm', ttlMs: 60_000 };
  const kernelSamples = new Float64Array(SAMPLES);
  const floorSamples = new Float64Array(SAMPLES);
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const k0 = process.hrtime.bigint();
    const { lease } = await kernel.ensureEndpoint(request, BENCH_CONSUMER, BENCH_CONTEXT, options);
    kernel.releaseLease(lease.leaseRef);
    const k1 = process.hrtime.bigint();
    const floorLease = await table.acquire(floorRequest);
    table.release(floorLease.leaseRef);
    const f1 = process.hrtime.bigint();
    if (i >= WARMUP) {
      kernelSamples[i - WARMUP] = elapsed(k0, k1);
      floorSamples[i - WARMUP] = elapsed(k1, f1);
    }
  }
  const summary = summarize(kernelSamples);
  const floor = summarize(floorSamples);
  return figure({
    name: `warm ensureEndpoint + release (${label})`,
    unit: 'µs',
    summary,
    baseline: { name: 'LeaseTable acquire+release', summary: floor },
    target: { kind: 'at-most', value: 20 },
    extra: { 'ops/s': 1e6 / summary.mean, 'floor ops/s': 1e6 / floor.mean },
  });
}

async function warmKernel(
  context: BenchContext,
  backend: Backend,
  bootSpec: Record<string, unknown>,
): Promise<{ kernel: Kernel; request: ReturnType<typeof benchRequest> }> {
  const kernel = await benchKernel(context, [backend]);
  const request = benchRequest(backend.id, bootSpec);
  // A long-held lease keeps the instance busy (never idle) for the whole measurement.
  await kernel.ensureEndpoint(request, BENCH_CONSUMER, BENCH_CONTEXT, { ownerRef: 'holder', ttlMs: 600_000 });
  return { kernel, request };
}

export const warmEnsureEndpoint: Benchmark = {
  id: 'warm',
  title: 'warm ensureEndpoint',
  async run(context) {
    const { binaryPath, modelPath } = await realLlamaServer({ onProgress: () => {} });
    context.progress('starting llama-server (tiny model) and a stand-in server');
    const llama = await warmKernel(context, createLlamaCppBackend({ binaryPath }), {
      model: modelPath,
      ctxSize: 512,
    });
    const standIn = await warmKernel(context, benchStandInBackend(), {
      name: 'warm',
      plan: { healthIntervalMs: 5_000 },
    });
    context.progress(`${WARMUP} warm-up + ${SAMPLES} samples per backend, interleaved with the floor`);
    const figures = [
      await measure(llama.kernel, llama.request, 'llama-cpp', context),
      await measure(standIn.kernel, standIn.request, 'stand-in', context),
    ];
    return {
      figures,
      notes: [
        'each sample is one `ensureEndpoint` of a ready instance plus `releaseLease`, timed with process.hrtime.bigint(); the floor is LeaseTable `acquire`+`release` alone, timed in the same loop iteration.',
      ],
    };
  },
};
