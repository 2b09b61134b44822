// Residency on real llama-servers: three models of one estimated size under a system budget that holds two.
// A third model evicts the least recently used idle one; a leased one is never evicted; a waiter gets the memory
// when a lease is released; a model bigger than the whole budget fails at once; the queue has a deadline; pins
// and priorities decide the order; the server's own report calibrates the next start.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { estimateLlamaMemory } from '../../backends/llama-cpp/estimate-llama-memory.js';
import { createLlamaCppBackend } from '../../backends/llama-cpp/index.js';
import { readGgufHeader } from '../../src/gguf/read-gguf-header.js';
import {
  type ConsumerManifestInput,
  createKernel,
  type Kernel,
  type KernelEvent,
  type KernelOptions,
  type PlanPolicyInput,
} from '../../src/index.js';
import { isAlive } from '../support/lifecycle-harness.js';
import { type RealLlamaServer, realLlamaServer } from '../support/llama-fixture.js';
import { waitUntil } from '../support/wait-until.js';

const CONSUMER: ConsumerManifestInput = {
  consumer: 'residency-test',
  acceptedRuntimeKinds: ['service'],
  acceptedManagementModes: ['kernel_managed'],
  acceptedProtocols: ['openai_chat_completions'],
};

let real: RealLlamaServer;
let need: number;
const kernels: Kernel[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  real = await realLlamaServer();
  // What the kernel will estimate for each of the three (same file, one slot, 512 tokens; aliases differ).
  const estimate = estimateLlamaMemory(await readGgufHeader(real.modelPath), { ctxSize: 512, parallel: 1 });
  need = estimate.bytes.system!;
}, 900_000);

afterEach(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function kernelWithBudget(
  budgetBytes: number,
  residency: Omit<Exclude<KernelOptions['residency'], false | undefined>, 'budgets' | 'detect'> = {},
): Promise<{ kernel: Kernel; events: KernelEvent[] }> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'shic-residency-'));
  dirs.push(stateDir);
  const kernel = createKernel({
    stateDir,
    backends: [createLlamaCppBackend({ binaryPath: real.binaryPath })],
    residency: { budgets: { system: budgetBytes }, detect: false, ...residency },
  });
  kernels.push(kernel);
  const events: KernelEvent[] = [];
  kernel.on('*', (event) => events.push(event));
  return { kernel, events };
}

function ensure(
  kernel: Kernel,
  alias: string,
  options: { policy?: PlanPolicyInput; bootSpec?: Record<string, unknown>; signal?: AbortSignal } = {},
) {
  return kernel.ensureEndpoint(
    {
      requestId: `req-${alias}`,
      targetPreference: {
        backend: 'llama-cpp',
        bootSpec: { model: real.modelPath, alias, ctxSize: 512, parallel: 1, ...options.bootSpec },
        ...(options.policy ? { policy: options.policy } : {}),
      },
    },
    CONSUMER,
    { runId: 'run', attemptId: alias },
    { ownerRef: `test:${alias}`, ...(options.signal ? { signal: options.signal } : {}) },
  );
}

const instanceOf = (kernel: Kernel, alias: string) =>
  kernel.listInstances().find((i) => i.endpoint?.modelIdentity === alias || i.metadata.attemptId === alias);

const evictions = (events: KernelEvent[]) =>
  events.filter((e) => e.type === 'residency.evicting') as Array<
    Extract<KernelEvent, { type: 'residency.evicting' }>
  >;

describe('residency on real llama-server (budget for two models)', () => {
  it('evicts the least recently used idle instance for a third model, and waits for its process to be gone', async () => {
    const { kernel, events } = await kernelWithBudget(Math.floor(need * 2.5));
    const a = await ensure(kernel, 'a');
    kernel.releaseLease(a.lease.leaseRef);
    const b = await ensure(kernel, 'b');
    kernel.releaseLease(b.lease.leaseRef);
    // a is used again: b is now the least recently used.
    kernel.releaseLease((await ensure(kernel, 'a')).lease.leaseRef);
    const bPid = instanceOf(kernel, 'b')!.pid!;

    const c = await ensure(kernel, 'c');
    const evicted = evictions(events);
    expect(evicted.map((e) => e.instanceId)).toEqual([b.lease.instanceId]);
    expect(evicted[0]).toMatchObject({ reason: 'memory', forInstanceId: c.lease.instanceId });
    // The new server was spawned only after the evicted one's process had exited.
    const exitedAt = events.findIndex(
      (e) => e.type === 'instance.exited' && e.instanceId === b.lease.instanceId,
    );
    const spawnedAt = events.findIndex(
      (e) => e.type === 'instance.spawned' && e.instanceId === c.lease.instanceId,
    );
    expect(exitedAt).toBeGreaterThanOrEqual(0);
    expect(spawnedAt).toBeGreaterThan(exitedAt);
    expect(isAlive(bPid)).toBe(false);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'instance.stopped',
        instanceId: b.lease.instanceId,
        reason: 'evicted',
      }),
    );
    expect(
      kernel
        .listInstances()
        .map((i) => i.endpoint?.modelIdentity)
        .sort(),
    ).toEqual(['a', 'c']);
    const memory = kernel.memory()!;
    expect(memory.devices[0]!.chargedBytes).toBeLessThanOrEqual(memory.devices[0]!.capacityBytes);
    expect(kernel.lookupInstance(c.lease.instanceId)?.memory?.bytes.system).toBeGreaterThan(0);
  }, 120_000);

  it('never evicts a leased instance: the third waits in the queue and gets the memory when a lease is released', async () => {
    const { kernel, events } = await kernelWithBudget(Math.floor(need * 2.5));
    const a = await ensure(kernel, 'a');
    const b = await ensure(kernel, 'b');
    let settled = false;
    const third = ensure(kernel, 'c').finally(() => {
      settled = true;
    });
    await waitUntil(() => events.some((e) => e.type === 'residency.queued'), {
      timeoutMs: 30_000,
      message: 'queued event',
    });
    const queued = events.find((e) => e.type === 'residency.queued') as Extract<
      KernelEvent,
      { type: 'residency.queued' }
    >;
    expect(queued.position).toBe(1);
    expect(queued.blocking.map((h) => [h.instanceId, h.reason]).sort()).toEqual(
      [
        [a.lease.instanceId, 'leased'],
        [b.lease.instanceId, 'leased'],
      ].sort(),
    );
    expect(settled).toBe(false);
    expect(evictions(events)).toEqual([]);

    kernel.releaseLease(b.lease.leaseRef);
    const c = await third;
    expect(evictions(events).map((e) => e.instanceId)).toEqual([b.lease.instanceId]);
    // a kept its lease and its server throughout.
    expect(kernel.lookupLease(a.lease.leaseRef)).toBeDefined();
    expect(kernel.lookupInstance(a.lease.instanceId)?.state).toBe('ready');
    expect(kernel.lookupInstance(c.lease.instanceId)?.state).toBe('ready');
  }, 120_000);

  it('fails at once with insufficient_memory when a model needs more than the whole budget, spawning nothing', async () => {
    const { kernel, events } = await kernelWithBudget(Math.floor(need * 2.5));
    const started = Date.now();
    const error = await ensure(kernel, 'huge', {
      bootSpec: { model: real.longModelPath, ctxSize: 32_768 },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'insufficient_memory', details: { never: true, holders: [] } });
    expect(String((error as Error).message)).toMatch(/more than the whole budget/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(events.some((e) => e.type === 'instance.spawned')).toBe(false);
    expect(events).toContainEqual(expect.objectContaining({ type: 'residency.refused', never: true }));
  }, 60_000);

  it('gives up at the queue deadline with insufficient_memory naming the need, the budget and the holders', async () => {
    const { kernel, events } = await kernelWithBudget(Math.floor(need * 2.5), { queueTimeoutMs: 1_500 });
    const a = await ensure(kernel, 'a');
    const b = await ensure(kernel, 'b');
    const error = (await ensure(kernel, 'c').catch((e: unknown) => e)) as {
      code: string;
      retryable: boolean;
      details: {
        need: { system: number };
        budget: { system: number };
        holders: Array<{ instanceId: string; reason: string }>;
        waitedMs: number;
      };
    };
    expect(error.code).toBe('insufficient_memory');
    expect(error.retryable).toBe(true);
    expect(error.details.need.system).toBe(need);
    expect(error.details.budget.system).toBe(Math.floor(need * 2.5));
    expect(error.details.holders.map((h) => h.instanceId).sort()).toEqual(
      [a.lease.instanceId, b.lease.instanceId].sort(),
    );
    expect(error.details.waitedMs).toBeGreaterThanOrEqual(1_400);
    // The refused start spawned nothing; it is listed as failed, with the reason, until the next ensure.
    const refused = kernel.listInstances().filter((i) => i.state === 'failed');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ lastError: { code: 'insufficient_memory' } });
    expect(refused[0]!.pid).toBeUndefined();
    expect(
      events.some(
        (e) =>
          e.type === 'instance.spawned' &&
          e.instanceId !== a.lease.instanceId &&
          e.instanceId !== b.lease.instanceId,
      ),
    ).toBe(false);
  }, 60_000);

  it('evicts the lower priority first, whatever was used last, and never a pinned instance', async () => {
    const { kernel, events } = await kernelWithBudget(Math.floor(need * 3.5));
    // Without pins a would go first (lowest priority, least recently used); without priorities, b (LRU).
    kernel.releaseLease((await ensure(kernel, 'a', { policy: { pin: true, priority: -2 } })).lease.leaseRef);
    kernel.releaseLease((await ensure(kernel, 'b')).lease.leaseRef);
    const c = await ensure(kernel, 'c', { policy: { priority: -1 } });
    kernel.releaseLease(c.lease.leaseRef);
    await ensure(kernel, 'd');
    expect(evictions(events).map((e) => e.instanceId)).toEqual([c.lease.instanceId]);
    expect(instanceOf(kernel, 'a')?.state).toBe('ready');
    expect(instanceOf(kernel, 'b')?.state).toBe('ready');
  }, 120_000);

  it('bounds how long a busy model keeps the memory: past fairnessMs it drains, and the waiting model loads', async () => {
    const { kernel, events } = await kernelWithBudget(Math.floor(need * 1.5), {
      fairnessMs: 1_000,
      queueTimeoutMs: 20_000,
    });
    // a is never idle: two clients ask it one short completion after another, each under its own lease.
    let busy = true;
    const errors: unknown[] = [];
    let served = 0;
    const client = async () => {
      while (busy) {
        try {
          const { endpoint, lease } = await ensure(kernel, 'a');
          try {
            const res = await request(`${endpoint.baseUrl}/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ model: 'a', prompt: 'hi', max_tokens: 8 }),
            });
            await res.body.dump();
            served += 1;
          } finally {
            kernel.releaseLease(lease.leaseRef);
          }
        } catch (error) {
          errors.push(error);
        }
      }
    };
    const clients = [client(), client()];
    try {
      await waitUntil(() => served >= 4, { message: 'a serving its clients' });
      const b = await ensure(kernel, 'b');
      const draining = events.find((e) => e.type === 'residency.draining') as Extract<
        KernelEvent,
        { type: 'residency.draining' }
      >;
      expect(draining).toMatchObject({ forInstanceId: b.lease.instanceId });
      expect(draining.waitedMs).toBeGreaterThanOrEqual(1_000);
      expect(evictions(events).map((e) => e.instanceId)).toEqual([draining.instanceId]);
      // a's clients waited while b had the memory; they get a again once b's lease ends.
      const servedDuringB = served;
      kernel.releaseLease(b.lease.leaseRef);
      await waitUntil(() => served > servedDuringB + 2, { message: 'a serving again after b' });
    } finally {
      busy = false;
      await Promise.all(clients);
    }
    expect(errors).toEqual([]);
  }, 120_000);

  it('charges what llama-server reported once it is ready, and starts the same key next time from that figure', async () => {
    const { kernel, events } = await kernelWithBudget(Math.floor(need * 2.5));
    const a = await ensure(kernel, 'a');
    const calibrated = events.find((e) => e.type === 'residency.calibrated') as Extract<
      KernelEvent,
      { type: 'residency.calibrated' }
    >;
    expect(calibrated.instanceId).toBe(a.lease.instanceId);
    expect(calibrated.estimated.system).toBe(need);
    // What the server says it allocated, summed over its buffer lines; within a few % of the estimate.
    expect(Math.abs(calibrated.bytes.system! - need) / need).toBeLessThan(0.1);
    expect(kernel.lookupInstance(a.lease.instanceId)?.memory).toEqual({
      bytes: calibrated.bytes,
      source: 'calibrated',
    });

    await kernel.stopInstance(a.lease.instanceId);
    const again = await ensure(kernel, 'a');
    const admitted = events.filter((e) => e.type === 'residency.admitted') as Array<
      Extract<KernelEvent, { type: 'residency.admitted' }>
    >;
    expect(admitted.map((e) => e.source)).toEqual(['estimated', 'calibrated']);
    expect(admitted[1]).toMatchObject({ instanceId: again.lease.instanceId, bytes: calibrated.bytes });
  }, 120_000);
});
