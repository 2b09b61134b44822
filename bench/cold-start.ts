// Cold start on the real llama-server + tiny model: kernel ensureEndpoint → endpoint returned, against a raw
// spawn of the same command (execa) → first /health 200 polled every 1 ms. Interleaved, alternating order.
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import getPort from 'get-port';
import { pino } from 'pino';
import { request as httpRequest } from 'undici';
import { createLlamaCppBackend } from '../backends/llama-cpp/index.js';
import { parseInstanceSpec } from '../src/contracts/instance-spec.js';
import type { StartupPlanInput } from '../src/contracts/startup-plan.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { realLlamaServer } from '../test/support/llama-fixture.js';
import { BENCH_CONSUMER, BENCH_CONTEXT, benchKernel, benchRequest } from './bench-kernel.js';
import type { Benchmark } from './benchmark.js';
import { figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const PAIRS = 20;
const WARMUP_PAIRS = 1;

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await httpRequest(url, { headersTimeout: 2_000, bodyTimeout: 2_000 });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

// The baseline: what a hand-written launcher does at best — spawn, then poll /health every 1 ms.
async function rawStart(plan: StartupPlanInput): Promise<number> {
  const transport = plan.transport!;
  const t0 = process.hrtime.bigint();
  const child = execa(transport.command, transport.args ?? [], {
    env: transport.env ?? {},
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
    reject: false,
  });
  const health = `${plan.endpointTemplate.baseUrl.replace(/\/v1$/, '')}/health`;
  try {
    const deadline = Date.now() + 60_000;
    while (!(await healthy(health))) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error('raw llama-server never became healthy');
      await sleep(1);
    }
    return elapsed(t0, process.hrtime.bigint(), 'ms');
  } finally {
    child.kill('SIGKILL');
    await child;
  }
}

/** One kernel cold start: total, and the kernel's own phases (before the spawn, after the ready event). */
interface KernelStart {
  ms: number;
  preSpawnMs: number;
  readyToReturnMs: number;
}

async function kernelStart(kernel: Kernel, request: ReturnType<typeof benchRequest>): Promise<KernelStart> {
  let spawnedAt = 0n;
  let readyAt = 0n;
  const offSpawned = kernel.on('instance.spawned', () => {
    spawnedAt = process.hrtime.bigint();
  });
  const offReady = kernel.on('instance.ready', () => {
    readyAt = process.hrtime.bigint();
  });
  const t0 = process.hrtime.bigint();
  const { lease } = await kernel.ensureEndpoint(request, BENCH_CONSUMER, BENCH_CONTEXT, {
    ownerRef: 'bench-cold',
  });
  const t1 = process.hrtime.bigint();
  offSpawned();
  offReady();
  kernel.releaseLease(lease.leaseRef);
  await kernel.stopInstance(lease.instanceId);
  return {
    ms: elapsed(t0, t1, 'ms'),
    preSpawnMs: elapsed(t0, spawnedAt, 'ms'),
    readyToReturnMs: elapsed(readyAt, t1, 'ms'),
  };
}

export const coldStart: Benchmark = {
  id: 'cold',
  title: 'cold start (real llama-server)',
  async run(context) {
    const { binaryPath, modelPath } = await realLlamaServer({ onProgress: () => {} });
    const backend = createLlamaCppBackend({ binaryPath });
    const kernel = await benchKernel(context, [backend]);
    const bootSpec = { model: modelPath, ctxSize: 512 };
    const request = benchRequest('llama-cpp', bootSpec);
    const spec = parseInstanceSpec({ backend: 'llama-cpp', bootSpec });
    const planContext = {
      allocatePort: () => getPort({ host: '127.0.0.1' }),
      signal: new AbortController().signal,
      logger: pino({ level: 'silent' }),
    };
    const kernelMs: number[] = [];
    const rawMs: number[] = [];
    const preSpawnMs: number[] = [];
    const readyToReturnMs: number[] = [];
    for (let i = 0; i < WARMUP_PAIRS + PAIRS; i++) {
      // Same flags as the kernel's plan, on a fresh port; the plan is built before the clock starts.
      const plan = await backend.startupPlan(spec, planContext);
      const kernelFirst = i % 2 === 0;
      const k = kernelFirst ? await kernelStart(kernel, request) : undefined;
      const r = await rawStart(plan);
      const k2 = kernelFirst ? k! : await kernelStart(kernel, request);
      if (i < WARMUP_PAIRS) continue;
      kernelMs.push(k2.ms);
      rawMs.push(r);
      preSpawnMs.push(k2.preSpawnMs);
      readyToReturnMs.push(k2.readyToReturnMs);
      context.progress(`pair ${i}: kernel ${k2.ms.toFixed(1)} ms, raw ${r.toFixed(1)} ms`);
    }
    const summary = summarize(kernelMs);
    const baseline = summarize(rawMs);
    return {
      figures: [
        figure({
          name: 'cold start: ensureEndpoint → endpoint (llama-server, tiny model)',
          unit: 'ms',
          summary,
          baseline: { name: 'raw execa spawn → /health 200 (1 ms polling)', summary: baseline },
          target: { kind: 'at-most', value: 15, label: 'overhead ≤ 15 ms' },
          judged: summary.median - baseline.median,
          extra: {
            'kernel median': summary.median,
            'raw median': baseline.median,
            'median of paired differences': summarize(kernelMs.map((k, j) => k - rawMs[j]!)).median,
            'kernel before spawn (median)': summarize(preSpawnMs).median,
            'kernel ready event → returned (median)': summarize(readyToReturnMs).median,
          },
        }),
      ],
      notes: [
        `${PAIRS} interleaved pairs (order alternates) after ${WARMUP_PAIRS} warm-up pair; overhead = kernel median − raw median. The kernel's time includes preflight, spawn, readiness probing, lease and descriptor; "before spawn" is ensure call → "instance.spawned" (validation, plan, port, preflight). The machine is shared, so single pairs vary by hundreds of ms; the paired-difference median is the steadier estimate.`,
      ],
    };
  },
};
