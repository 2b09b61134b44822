// EndpointService through the kernel with spawned stand-ins: lease revocation when a leased instance dies,
// cleanup when leasing fails after a start, typed errors for a bad signal, and close().
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Lease } from '../../src/contracts/lease.js';
import { consumerInput, executionContext, owner, standInRequest } from '../support/consumers.js';
import { eventsOf, isAlive, rejectionOf, waitUntil } from '../support/lifecycle-harness.js';
import { endpointHarness } from './endpoint-harness.js';

const harness = endpointHarness();
afterEach(async () => {
  vi.useRealTimers();
  await harness.cleanup();
});

describe('EndpointService', () => {
  it('revokes every lease of a stand-in killed with SIGKILL, restarts it, and serves the next call', async () => {
    const { kernel, events } = harness.create();
    const boot = { name: 'crash' };
    const a = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('a'),
    );
    const b = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('b'),
    );
    const id = a.lease.instanceId;
    const pid = kernel.lookupInstance(id)!.pid!;
    process.kill(pid, 'SIGKILL');
    const revoked = await waitUntil(
      () => {
        const seen = eventsOf(events, 'lease.revoked', id);
        return seen.length === 2 ? seen : undefined;
      },
      { message: 'two lease.revoked events' },
    );
    expect(revoked.map((e) => e.leaseRef).sort()).toEqual([a.lease.leaseRef, b.lease.leaseRef].sort());
    expect(revoked.every((e) => e.reason === 'instance exited')).toBe(true);
    expect(kernel.lookupLease(a.lease.leaseRef)).toBeUndefined();
    expect(kernel.releaseLease(b.lease.leaseRef)).toBe(false);
    expect((await rejectionOf(Promise.resolve().then(() => kernel.renewLease(a.lease.leaseRef)))).code).toBe(
      'lease_not_found',
    );

    await waitUntil(() => eventsOf(events, 'instance.ready', id).length === 2, { message: 'the restart' });
    const next = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('c'),
    );
    expect(next.lease.instanceId).toBe(id);
    expect(kernel.lookupInstance(id)).toMatchObject({ state: 'ready', restarts: 1, leaseCount: 1 });
    expect(kernel.lookupInstance(id)!.pid).not.toBe(pid);
    const health = await fetch(next.endpoint.baseUrl.replace(/\/v1$/, '/health'));
    expect(health.status).toBe(200);
  });

  it('revokes the leases of a stand-in that must not restart, and the next call starts a fresh one', async () => {
    const { kernel, events } = harness.create();
    const boot = { name: 'no-restart', plan: { restartPolicy: { mode: 'never' as const } } };
    const first = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('a'),
    );
    const id = first.lease.instanceId;
    process.kill(kernel.lookupInstance(id)!.pid!, 'SIGKILL');
    const [revoked] = await waitUntil(
      () => {
        const seen = eventsOf(events, 'lease.revoked', id);
        return seen.length ? seen : undefined;
      },
      { message: 'lease.revoked' },
    );
    expect(revoked!.leaseRef).toBe(first.lease.leaseRef);
    await waitUntil(() => eventsOf(events, 'instance.failed', id).length === 1, {
      message: 'instance.failed',
    });
    const fresh = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('b'),
    );
    expect(fresh.lease.instanceId).not.toBe(id);
    expect(fresh.endpoint.baseUrl).not.toBe(first.endpoint.baseUrl);
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(2);
  });

  it('revokes leases with reason "instance stopped" when a leased stand-in is stopped', async () => {
    const { kernel, events } = harness.create();
    const { lease } = await kernel.ensureEndpoint(
      standInRequest({ name: 'stop' }),
      consumerInput(),
      executionContext(),
      owner(),
    );
    const stopping = kernel.stopInstance(lease.instanceId);
    // Revoked as the stop begins, before the process is gone: nobody holds an endpoint that is going away.
    expect(kernel.lookupLease(lease.leaseRef)).toBeUndefined();
    await stopping;
    expect(eventsOf(events, 'lease.revoked')).toEqual([
      expect.objectContaining({ leaseRef: lease.leaseRef, reason: 'instance stopping' }),
    ]);
    const order = events.map((e) => e.type);
    expect(order.indexOf('lease.revoked')).toBeLessThan(order.indexOf('instance.stopped'));
  });

  it('keeps a stand-in another party leased when the call that started it cannot lease it', async () => {
    const { kernel, events } = harness.create();
    let grabbed: Promise<Lease> | undefined;
    // The moment it is ready, someone else takes its only slot (before the starting caller leases).
    const off = kernel.on('instance.ready', (event) => {
      grabbed ??= kernel.leaseInstance(event.instanceId, { ownerRef: 'grabber' });
    });
    const error = await rejectionOf(
      kernel.ensureEndpoint(
        standInRequest({ name: 'contended', plan: { maxLeases: 1 } }),
        consumerInput(),
        executionContext(),
        owner('starter'),
      ),
    );
    off();
    expect(error.code).toBe('capacity_exhausted');
    const lease = await grabbed!;
    expect(kernel.lookupInstance(lease.instanceId)).toMatchObject({ state: 'ready', leaseCount: 1 });
    expect(eventsOf(events, 'instance.stopped')).toEqual([]);
  });

  it('stops a stand-in started only for a call whose lease wait was aborted once nobody holds it', async () => {
    const { kernel, events } = harness.create();
    let grabbed: Promise<Lease> | undefined;
    const off = kernel.on('instance.ready', (event) => {
      grabbed ??= kernel.leaseInstance(event.instanceId, { ownerRef: 'grabber' });
    });
    const controller = new AbortController();
    const call = kernel.ensureEndpoint(
      standInRequest({ name: 'abandoned', plan: { maxLeases: 1 } }),
      consumerInput(),
      executionContext(),
      owner('starter', { capacityWaitMs: 60_000, signal: controller.signal }),
    );
    await waitUntil(() => kernel.leaseStats().waiting === 1, {
      message: 'the starter to queue for the slot',
    });
    off();
    const lease = await grabbed!;
    const pid = kernel.lookupInstance(lease.instanceId)!.pid!;
    controller.abort();
    kernel.releaseLease(lease.leaseRef);
    expect((await rejectionOf(call)).code).toBe('aborted');
    const stopped = await waitUntil(() => eventsOf(events, 'instance.stopped', lease.instanceId)[0], {
      message: 'the unclaimed instance to stop',
    });
    expect(stopped.reason).toBe('aborted');
    await waitUntil(() => !isAlive(pid), { message: 'the stand-in process to exit' });
  });

  it('rejects a signal that is not an AbortSignal with invalid_request naming it in ensureEndpoint and ensureInstance, spawning nothing (stand-in)', async () => {
    const { kernel, spawned, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureEndpoint(standInRequest({ name: 'bad-signal' }), consumerInput(), executionContext(), {
        ownerRef: 'w',
        signal: 'stop' as unknown as AbortSignal,
      }),
    );
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('signal');
    const direct = await rejectionOf(
      kernel.ensureInstance(
        { backend: 'stand-in', bootSpec: { name: 'bad-signal' } },
        { signal: { aborted: false } as unknown as AbortSignal },
      ),
    );
    expect(direct.code).toBe('invalid_request');
    expect(direct.message).toContain('signal');
    expect(spawned.stats.plans).toBe(0);
    expect(eventsOf(events, 'instance.starting')).toEqual([]);
  });

  it('leaves no leases, timers or listeners behind after close (stand-in)', async () => {
    const { kernel, events } = harness.create();
    const quiet = { healthIntervalMs: 600_000, functionalHealthIntervalMs: 600_000 };
    const full = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'close-full', plan: { ...quiet, maxLeases: 1 } },
    });
    const idle = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'close-idle', plan: { ...quiet, idleShutdownMs: 60_000 } },
    });
    const exitListeners = process.listenerCount('exit');
    // From here on every timer the kernel arms is a fake one the test can count.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldClearNativeTimers: true });
    const brief = await kernel.leaseInstance(idle.instance.instanceId, { ownerRef: 'brief' });
    kernel.releaseLease(brief.leaseRef); // re-arms the idle shutdown timer
    const held = await kernel.leaseInstance(full.instance.instanceId, { ownerRef: 'holder', ttlMs: 60_000 });
    const waiterOutcome = kernel
      .leaseInstance(full.instance.instanceId, { ownerRef: 'waiter', capacityWaitMs: 60_000 })
      .then(
        () => 'granted',
        (error: { code?: string }) => error.code,
      );
    expect(kernel.leaseStats()).toMatchObject({ live: 1, waiting: 1 });
    expect(vi.getTimerCount()).toBe(3); // lease expiry, idle shutdown, capacity wait

    await kernel.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
    expect(await waiterOutcome).toBe('instance_stopped');
    expect(eventsOf(events, 'lease.revoked').map((e) => e.leaseRef)).toEqual([held.leaseRef]);
    expect(eventsOf(events, 'instance.stopped').map((e) => e.reason)).toEqual(['close', 'close']);
    expect(isAlive(full.instance.pid!)).toBe(false);
    expect(isAlive(idle.instance.pid!)).toBe(false);
    await waitUntil(() => process.listenerCount('exit') <= exitListeners, {
      message: 'exit listeners released',
    });
    const count = events.length;
    expect(() => kernel.on('lease.acquired', () => {})).toThrow(
      expect.objectContaining({ code: 'kernel_closed' }),
    );
    expect(() => kernel.leaseStats()).toThrow(expect.objectContaining({ code: 'kernel_closed' }));
    expect(() => kernel.lookupLease(held.leaseRef)).toThrow(
      expect.objectContaining({ code: 'kernel_closed' }),
    );
    expect(
      (await rejectionOf(kernel.leaseInstance(full.instance.instanceId, { ownerRef: 'late' }))).code,
    ).toBe('kernel_closed');
    expect(events.length).toBe(count);
  });
});
