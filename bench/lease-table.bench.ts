// Micro-benchmark: acquire + release on an instance that already holds 10 000 live leases.
// Run with `npx tsx bench/lease-table.bench.ts`. Prints p50/p99 in µs and ops/s; not a test.

import { LeaseTable } from '../src/lease/lease-table.js';
import { EventBus } from '../src/telemetry/event-bus.js';

const LIVE = 10_000;
const WARMUP = 20_000;
const SAMPLES = 200_000;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function run(label: string, table: LeaseTable, useAsync: boolean): Promise<void> {
  for (let i = 0; i < LIVE; i++) {
    table.tryAcquire({ instanceId: 'inst', backend: 'llama-cpp', ownerRef: `bg${i}`, ttlMs: 600_000 + i });
  }
  const request = {
    instanceId: 'inst',
    backend: 'llama-cpp',
    ownerRef: 'bench',
    ttlMs: 60_000,
    maxLeases: 1_000_000,
  };
  const samples = new Float64Array(SAMPLES);
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const start = process.hrtime.bigint();
    const lease = useAsync ? await table.acquire(request) : table.tryAcquire(request)!;
    table.release(lease.leaseRef);
    const end = process.hrtime.bigint();
    if (i >= WARMUP) samples[i - WARMUP] = Number(end - start) / 1_000;
  }
  samples.sort();
  let total = 0;
  for (const s of samples) total += s;
  const p50 = percentile(samples, 0.5);
  const p99 = percentile(samples, 0.99);
  console.log(
    `${label.padEnd(44)} p50 ${p50.toFixed(2).padStart(6)} µs  p99 ${p99.toFixed(2).padStart(6)} µs  ` +
      `${Math.round((SAMPLES * 1e6) / total).toLocaleString('en-US')} ops/s  (live leases: ${table.size})`,
  );
  table.close();
}

const bus = new EventBus();
bus.on('*', () => {});
console.log(`LeaseTable acquire+release, ${LIVE} live leases on the instance, ${SAMPLES} samples`);
await run('tryAcquire + release, no events', new LeaseTable(), false);
await run('acquire (await) + release, no events', new LeaseTable(), true);
await run(
  'acquire (await) + release, events on a bus',
  new LeaseTable({ onEvent: (name, payload) => bus.emit(name, payload) }),
  true,
);
