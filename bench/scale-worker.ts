// Runs in its own process (spawned by bench/scale.ts) so its RSS is the kernel's alone: 100 stand-in instances,
// 10 000 leases with staggered TTLs, then the expiry of all of them. Prints one JSON line (ScaleFigures) on stdout.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKernel } from '../src/kernel/create-kernel.js';
import { BENCH_CONSUMER, BENCH_CONTEXT, benchRequest, benchStandInBackend } from './bench-kernel.js';
import { type Summary, summarize } from './stats.js';

/** What the worker reports. Memory in MB, delays in ms. */
export interface ScaleFigures {
  baselineRssMb: number;
  /** RSS with the instances up, before any lease. */
  instancesRssMb: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  instances: number;
  leases: number;
  /** Leases expired per timer tick (one macrotask), over the ticks that expired any. */
  expiredPerTick: Summary;
  expiryTicks: number;
  expiryWallMs: number;
  delayIdle: Summary;
  delayExpiring: Summary;
}

const INSTANCES = 100;
const LEASES = 10_000;
const FIRST_EXPIRY_MS = 4_000;
const EXPIRY_SPREAD_MS = 5_000;
const MB = 1024 * 1024;

function log(message: string): void {
  process.stderr.write(`[bench scale worker] ${message}\n`);
}

function rssMb(): number {
  globalThis.gc?.();
  return process.memoryUsage().rss / MB;
}

function delaySummary(h: IntervalHistogram): Summary {
  const ms = (ns: number) => ns / 1e6;
  return {
    runs: h.count,
    median: ms(h.percentile(50)),
    p99: ms(h.percentile(99)),
    min: ms(h.min),
    max: ms(h.max),
    mean: ms(h.mean),
  };
}

const baselineRssMb = rssMb();
const stateDir = await mkdtemp(path.join(tmpdir(), 'shic-bench-scale-'));
const kernel = createKernel({ stateDir, backends: [benchStandInBackend()] });
try {
  const requests = Array.from({ length: INSTANCES }, (_, i) =>
    benchRequest('stand-in', { name: `scale-${i}`, plan: { healthIntervalMs: 5_000 } }),
  );
  for (let i = 0; i < INSTANCES; i += 10) {
    await Promise.all(requests.slice(i, i + 10).map((r) => kernel.ensureInstance(r.targetPreference)));
    log(`${i + 10} instances ready`);
  }
  const instancesRssMb = rssMb();
  const created = Date.now();
  for (let i = 0; i < LEASES; i++) {
    // TTLs end between FIRST_EXPIRY_MS and FIRST_EXPIRY_MS + EXPIRY_SPREAD_MS after the first lease.
    const ttlMs = FIRST_EXPIRY_MS + Math.floor((i * EXPIRY_SPREAD_MS) / LEASES) - (Date.now() - created);
    await kernel.ensureEndpoint(requests[i % INSTANCES]!, BENCH_CONSUMER, BENCH_CONTEXT, {
      ownerRef: `owner-${i}`,
      ttlMs: Math.max(1, ttlMs),
    });
  }
  log(`${LEASES} leases live after ${Date.now() - created} ms`);
  const rss = rssMb();
  const memory = process.memoryUsage();

  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  const firstExpiry = created + FIRST_EXPIRY_MS;
  await sleep(Math.max(0, firstExpiry - 50 - Date.now()));
  idle.disable();

  let expired = 0;
  let bucket = 0;
  const perTick: number[] = [];
  kernel.on('lease.expired', () => {
    expired += 1;
    if (bucket++ === 0) {
      setImmediate(() => {
        perTick.push(bucket);
        bucket = 0;
      });
    }
  });
  const expiring = monitorEventLoopDelay({ resolution: 1 });
  const t0 = Date.now();
  expiring.enable();
  const deadline = Date.now() + 60_000;
  // Polls on a timer (not a busy loop), so the waiting itself adds no event-loop load.
  while (expired < LEASES || bucket !== 0) {
    if (Date.now() > deadline) throw new Error(`only ${expired} of ${LEASES} leases expired within 60 s`);
    await sleep(10);
  }
  expiring.disable();
  const figures: ScaleFigures = {
    baselineRssMb,
    instancesRssMb,
    rssMb: rss,
    heapUsedMb: memory.heapUsed / MB,
    heapTotalMb: memory.heapTotal / MB,
    externalMb: memory.external / MB,
    instances: kernel.listInstances().length,
    leases: LEASES,
    expiredPerTick: summarize(perTick),
    expiryTicks: perTick.length,
    expiryWallMs: Date.now() - t0,
    delayIdle: delaySummary(idle),
    delayExpiring: delaySummary(expiring),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await kernel.close();
  await rm(stateDir, { recursive: true, force: true });
}
