// Residency under chaos, on real llama-servers: workers ensure five models at random under a budget that holds
// two, hold and release leases, abort ensures, kill -9 servers and stop instances, for SHIC_RESIDENCY_CHAOS_SECONDS
// (default 45, short enough for CI). Checked on every kernel event and at the end: the charged memory never
// exceeds the budget, every ensure ends (within its deadline) in a lease or a typed KernelError, nothing waits
// for memory once the work is done, and no server outlives the kernel. Replay with SHIC_RESIDENCY_CHAOS_SEED.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateLlamaMemory } from '../../backends/llama-cpp/estimate-llama-memory.js';
import { createLlamaCppBackend } from '../../backends/llama-cpp/index.js';
import type { ConsumerManifestInput } from '../../src/contracts/consumer-manifest.js';
import type { Lease } from '../../src/contracts/lease.js';
import { KernelError } from '../../src/errors/kernel-error.js';
import { readGgufHeader } from '../../src/gguf/read-gguf-header.js';
import { createKernel } from '../../src/kernel/create-kernel.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { descendantsOf, roleOf } from '../support/process-census.js';
import { waitUntil } from '../support/wait-until.js';
import { printTable } from './support/print-table.js';
import { seededRandom, seedFromEnv } from './support/seeded-random.js';

const SECONDS = Number(process.env.SHIC_RESIDENCY_CHAOS_SECONDS ?? '45');
const WORKERS = 6;
const MODELS = ['m1', 'm2', 'm3', 'm4', 'm5'];
const SEED = seedFromEnv('SHIC_RESIDENCY_CHAOS_SEED');
// What a caller may legitimately get while others hold the memory, kill and stop what it uses.
const EXPECTED_CODES = new Set([
  'insufficient_memory',
  'aborted',
  'instance_stopped',
  'process_exited',
  'crash_loop',
  'readiness_timeout',
  'instance_not_found',
]);
// An ensure that takes longer than its queue deadline, a start and a stop together has hung.
const CALL_DEADLINE_MS = 60_000;

const consumer: ConsumerManifestInput = {
  consumer: 'residency-chaos',
  acceptedRuntimeKinds: ['service'],
  acceptedManagementModes: ['kernel_managed'],
  acceptedProtocols: ['openai_chat_completions'],
};

let stateDir = '';
afterAll(async () => {
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe(`residency chaos: ${WORKERS} workers, ${MODELS.length} models, budget for 2, ${SECONDS} s`, () => {
  it('never charges past the budget, ends every call in a lease or a typed error, and leaves nothing behind', {
    timeout: (SECONDS + 240) * 1000,
  }, async () => {
    const { binaryPath, modelPath } = await realLlamaServer();
    const need = estimateLlamaMemory(await readGgufHeader(modelPath), { ctxSize: 512, parallel: 1 }).bytes
      .system!;
    const budget = Math.floor(need * 2.5);
    stateDir = await mkdtemp(path.join(tmpdir(), 'shic-residency-chaos-'));
    const kernel = createKernel({
      stateDir,
      backends: [createLlamaCppBackend({ binaryPath })],
      residency: { budgets: { system: budget }, detect: false, queueTimeoutMs: 4_000 },
    });
    const random = seededRandom(SEED);
    console.log(`[residency chaos] seed ${SEED} (replay: SHIC_RESIDENCY_CHAOS_SEED=${SEED}), ${SECONDS} s`);

    const counts: Record<string, number> = {};
    const count = (key: string) => {
      counts[key] = (counts[key] ?? 0) + 1;
    };
    const violations: string[] = [];
    let peakCharged = 0;
    const checkBudget = (why: string) => {
      const device = kernel.memory()?.devices.find((d) => d.device === 'system');
      if (!device) return;
      peakCharged = Math.max(peakCharged, device.chargedBytes);
      if (device.chargedBytes > device.capacityBytes)
        violations.push(`${why}: ${device.chargedBytes} > ${device.capacityBytes}`);
    };
    kernel.on('*', (event) => {
      count(`event ${event.type}`);
      checkBudget(event.type);
    });

    const held = new Set<Lease>();
    const failures: string[] = [];
    const deadline = Date.now() + SECONDS * 1000;
    const ensure = async () => {
      const alias = random.pick(MODELS);
      const abort = random.next() < 0.15 ? AbortSignal.timeout(random.int(5, 400)) : undefined;
      const call = kernel.ensureEndpoint(
        {
          requestId: `r-${alias}`,
          targetPreference: {
            backend: 'llama-cpp',
            bootSpec: { model: modelPath, alias, ctxSize: 512, parallel: 1 },
          },
        },
        consumer,
        { runId: 'chaos', attemptId: alias },
        { ownerRef: `chaos:${alias}`, ttlMs: random.int(300, 4_000), ...(abort ? { signal: abort } : {}) },
      );
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<'hang'>((resolve) => {
        timer = setTimeout(() => resolve('hang'), CALL_DEADLINE_MS);
      });
      try {
        const outcome = await Promise.race([call, hang]);
        if (outcome === 'hang') {
          failures.push(`ensure ${alias} did not end within ${CALL_DEADLINE_MS} ms`);
          count('ensure hung');
          return;
        }
        count('ensure → lease');
        held.add(outcome.lease);
      } catch (error) {
        if (KernelError.isInstance(error) && EXPECTED_CODES.has(error.code)) count(`ensure → ${error.code}`);
        else {
          count('ensure → unexpected');
          failures.push(`ensure ${alias}: ${String(error)}`);
        }
      } finally {
        clearTimeout(timer);
      }
    };
    const worker = async () => {
      while (Date.now() < deadline) {
        const action = random.weighted({ ensure: 10, release: 6, kill: 1, stop: 1, pause: 2 });
        count(`action ${action}`);
        if (action === 'ensure') await ensure();
        else if (action === 'release') {
          const lease = [...held][random.int(0, Math.max(0, held.size - 1))];
          if (lease) {
            held.delete(lease);
            kernel.releaseLease(lease.leaseRef);
          }
        } else if (action === 'kill' || action === 'stop') {
          const live = kernel.listInstances().filter((i) => i.state === 'ready');
          const victim = live[random.int(0, Math.max(0, live.length - 1))];
          if (!victim) continue;
          if (action === 'kill' && victim.pid) {
            try {
              process.kill(victim.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          } else {
            await kernel.stopInstance(victim.instanceId).catch((error: unknown) => {
              if (!(KernelError.isInstance(error) && error.code === 'instance_not_found'))
                failures.push(`stop: ${String(error)}`);
            });
          }
        } else await new Promise((resolve) => setTimeout(resolve, random.int(10, 300)));
        // Leases expire on their own too; forget those.
        for (const lease of held) if (!kernel.lookupLease(lease.leaseRef)) held.delete(lease);
      }
    };
    const sampler = setInterval(() => checkBudget('sample'), 25);
    try {
      await Promise.all(Array.from({ length: WORKERS }, worker));
    } finally {
      clearInterval(sampler);
    }
    for (const lease of held) kernel.releaseLease(lease.leaseRef);
    await waitUntil(() => kernel.memory()?.queue.length === 0, { message: 'no start waiting for memory' });
    const servers = () => descendantsOf(process.pid).filter((p) => roleOf(p) === 'llama-server');
    await kernel.close();
    await waitUntil(() => servers().length === 0, { message: 'every llama-server to exit with the kernel' });

    printTable(`residency chaos (seed ${SEED})`, [
      ['budget', `${(budget / 2 ** 20).toFixed(1)} MiB (need ${(need / 2 ** 20).toFixed(1)} MiB each)`],
      ['peak charged', `${(peakCharged / 2 ** 20).toFixed(1)} MiB`],
      ['budget violations', String(violations.length)],
      ['hung or unexpected calls', String(failures.length)],
      ...Object.entries(counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]): [string, string] => [k, String(v)]),
    ]);
    expect(violations).toEqual([]);
    expect(failures).toEqual([]);
    // It was chaos: memory ran out, idle servers were evicted and servers were killed.
    expect(counts['event residency.evicting'] ?? 0).toBeGreaterThan(0);
    expect(counts['event residency.queued'] ?? 0).toBeGreaterThan(0);
    expect(counts['ensure → lease'] ?? 0).toBeGreaterThan(10);
  });
});
