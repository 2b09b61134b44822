// Single-flight: 1000 concurrent ensures of a cold stand-in model start one process; compare the time until all
// resolved with one ensure alone of another cold model. Interleaved rounds, alternating order.
import type { Kernel } from '../src/kernel/kernel.js';
import {
  BENCH_CONSUMER,
  BENCH_CONTEXT,
  benchKernel,
  benchRequest,
  benchStandInBackend,
} from './bench-kernel.js';
import type { Benchmark } from './benchmark.js';
import { figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const CONCURRENT = 1_000;
const ROUNDS = 6;

const bootSpec = (name: string) => ({ name, plan: { healthIntervalMs: 5_000 } });

// Ensures `count` leases on a cold model at once; returns the time until all resolved and the spawns it caused.
async function burst(kernel: Kernel, name: string, count: number): Promise<{ ms: number; spawns: number }> {
  let spawns = 0;
  const off = kernel.on('instance.spawned', () => {
    spawns += 1;
  });
  const request = benchRequest('stand-in', bootSpec(name));
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      kernel.ensureEndpoint(request, BENCH_CONSUMER, BENCH_CONTEXT, { ownerRef: `caller-${i}` }),
    ),
  );
  const ms = elapsed(t0, process.hrtime.bigint(), 'ms');
  off();
  const instances = new Set(results.map((r) => r.lease.instanceId));
  if (instances.size !== 1) throw new Error(`${count} ensures landed on ${instances.size} instances`);
  for (const { lease } of results) kernel.releaseLease(lease.leaseRef);
  await kernel.stopInstance(results[0]!.lease.instanceId);
  return { ms, spawns };
}

export const singleFlight: Benchmark = {
  id: 'single-flight',
  title: 'single-flight cold ensure',
  async run(context) {
    const kernel = await benchKernel(context, [benchStandInBackend()]);
    await burst(kernel, 'warm-up', 1);
    const burstMs: number[] = [];
    const aloneMs: number[] = [];
    const spawns: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const burstFirst = round % 2 === 0;
      const alone = burstFirst ? undefined : await burst(kernel, `alone-${round}`, 1);
      const many = await burst(kernel, `burst-${round}`, CONCURRENT);
      const single = alone ?? (await burst(kernel, `alone-${round}`, 1));
      burstMs.push(many.ms);
      aloneMs.push(single.ms);
      spawns.push(many.spawns);
      context.progress(
        `round ${round}: ${CONCURRENT} ensures ${many.ms.toFixed(1)} ms (${many.spawns} spawn), one ensure ${single.ms.toFixed(1)} ms`,
      );
    }
    const spawnSummary = summarize(spawns);
    return {
      figures: [
        figure({
          name: `single-flight: spawns for ${CONCURRENT} concurrent cold ensures`,
          unit: 'spawns',
          summary: spawnSummary,
          target: { kind: 'at-most', value: 1, label: 'exactly 1 spawn per burst' },
          judged: spawnSummary.max,
        }),
        figure({
          name: `single-flight: ${CONCURRENT} concurrent cold ensures → all resolved (stand-in)`,
          unit: 'ms',
          summary: summarize(burstMs),
          baseline: { name: 'one cold ensure alone', summary: summarize(aloneMs) },
        }),
      ],
      notes: [
        `${ROUNDS} rounds, order alternating; every burst targets a model no instance serves yet; spawns counted from \`instance.spawned\` events; all ${CONCURRENT} leases must land on one instance.`,
      ],
    };
  },
};
