// Lease TTLs through the kernel on a real spawned stand-in: expiry at the deadline (an injected clock, vi fake
// timers after the stand-in is ready, and a short real TTL), renew, release/renew after expiry, and expiry work
// proportional to what expired among 10 000 live leases.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { consumerInput, executionContext, owner, standInRequest } from '../support/consumers.js';
import { eventsOf, rejectionOf, waitUntil } from '../support/lifecycle-harness.js';
import { endpointHarness, manualClock } from './endpoint-harness.js';

const harness = endpointHarness();
afterEach(async () => {
  vi.useRealTimers();
  await harness.cleanup();
});

// No health probe falls due while timers are faked: the stand-in stays quiet after it is ready.
const QUIET = { healthIntervalMs: 600_000, functionalHealthIntervalMs: 600_000 };

describe('Kernel lease expiry', () => {
  it('expires a stand-in lease exactly at its deadline on the kernel clock; renew moves the deadline', async () => {
    const clock = manualClock(1_700_000_000_000);
    const { kernel, events } = harness.create({ clock });
    const { lease } = await kernel.ensureEndpoint(
      standInRequest({ name: 'clock' }),
      consumerInput(),
      executionContext(),
      owner('w', { ttlMs: 10_000 }),
    );
    expect(lease).toMatchObject({ acquiredAt: clock.t, expiresAt: clock.t + 10_000, ttlMs: 10_000 });

    clock.t = lease.expiresAt - 1;
    expect(kernel.lookupLease(lease.leaseRef)).toEqual(lease);
    const renewed = kernel.renewLease(lease.leaseRef);
    expect(renewed.expiresAt).toBe(clock.t + 10_000);
    expect(renewed.expiresAt).toBeGreaterThan(lease.expiresAt);
    expect(eventsOf(events, 'lease.renewed')).toEqual([
      expect.objectContaining({ leaseRef: lease.leaseRef, expiresAt: renewed.expiresAt, ttlMs: 10_000 }),
    ]);
    const longer = kernel.renewLease(lease.leaseRef, 20_000);
    expect(longer).toMatchObject({ ttlMs: 20_000, expiresAt: clock.t + 20_000 });

    clock.t = longer.expiresAt - 1;
    expect(kernel.lookupLease(lease.leaseRef)).toBeDefined();
    clock.t = longer.expiresAt;
    expect(kernel.lookupLease(lease.leaseRef)).toBeUndefined();
    // Past the deadline: release is a no-op success, renew is lease_not_found, and the expiry is on the books.
    expect(kernel.releaseLease(lease.leaseRef)).toBe(false);
    expect(eventsOf(events, 'lease.expired')).toEqual([
      expect.objectContaining({
        leaseRef: lease.leaseRef,
        at: longer.expiresAt,
        heldMs: longer.expiresAt - lease.acquiredAt,
      }),
    ]);
    expect(eventsOf(events, 'lease.released')).toEqual([]);
    const error = await rejectionOf(Promise.resolve().then(() => kernel.renewLease(lease.leaseRef)));
    expect(error.code).toBe('lease_not_found');
    expect(error.message).toContain(lease.leaseRef);
    expect(kernel.listLeases(lease.instanceId)).toEqual([]);
    expect(kernel.lookupInstance(lease.instanceId)).toMatchObject({ state: 'ready', leaseCount: 0 });
  });

  it('fires lease.expired from the expiry timer at the deadline under fake timers (stand-in ready first)', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'fake-timers', plan: QUIET },
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const lease = await kernel.leaseInstance(instance.instanceId, { ownerRef: 'w', ttlMs: 5_000 });
    vi.advanceTimersByTime(4_000);
    const renewed = kernel.renewLease(lease.leaseRef);
    expect(renewed.expiresAt).toBe(lease.expiresAt + 4_000);
    vi.advanceTimersByTime(4_999); // past the first deadline, one ms short of the renewed one
    expect(kernel.lookupLease(lease.leaseRef)).toBeDefined();
    expect(eventsOf(events, 'lease.expired')).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(eventsOf(events, 'lease.expired')).toEqual([
      expect.objectContaining({ leaseRef: lease.leaseRef, at: renewed.expiresAt }),
    ]);
    expect(kernel.listLeases(instance.instanceId)).toEqual([]);
    expect(kernel.releaseLease(lease.leaseRef)).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('expires a short real TTL on a stand-in lease by itself and leaves the instance serving', async () => {
    const { kernel, events } = harness.create({ defaultLeaseTtlMs: 200 });
    const { lease } = await kernel.ensureEndpoint(
      standInRequest({ name: 'real-ttl' }),
      consumerInput(),
      executionContext(),
      owner('w'),
    );
    expect(lease.ttlMs).toBe(200);
    const [expired] = await waitUntil(
      () => {
        const seen = eventsOf(events, 'lease.expired');
        return seen.length > 0 ? seen : undefined;
      },
      { message: 'lease.expired' },
    );
    expect(expired).toMatchObject({ leaseRef: lease.leaseRef, ownerRef: 'w', backend: 'stand-in' });
    expect(expired!.at).toBeGreaterThanOrEqual(lease.expiresAt);
    expect(kernel.lookupLease(lease.leaseRef)).toBeUndefined();
    expect(kernel.releaseLease(lease.leaseRef)).toBe(false);
    expect((await rejectionOf(Promise.resolve().then(() => kernel.renewLease(lease.leaseRef)))).code).toBe(
      'lease_not_found',
    );
    expect(kernel.lookupInstance(lease.instanceId)?.state).toBe('ready');
  });

  it('rejects a bad defaultLeaseTtlMs at createKernel with invalid_argument naming the option', () => {
    for (const bad of [0, -1, 1.5, 2 ** 31, Number.POSITIVE_INFINITY, '60000']) {
      expect(() => harness.create({ defaultLeaseTtlMs: bad as number })).toThrow(
        expect.objectContaining({
          code: 'invalid_argument',
          message: expect.stringContaining('defaultLeaseTtlMs'),
        }),
      );
    }
  });

  it('spends expiry work proportional to what expired among 10 000 live leases on one stand-in', async () => {
    const { kernel } = harness.create();
    const { instance } = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'ten-thousand', plan: QUIET },
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const n = 10_000;
    // Staggered: lease i expires 60 s + 10·i ms from now.
    const leases = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        kernel.leaseInstance(instance.instanceId, { ownerRef: `o${i}`, ttlMs: 60_000 + i * 10 }),
      ),
    );
    expect(new Set(leases.map((l) => l.leaseRef)).size).toBe(n);
    expect(kernel.leaseStats()).toMatchObject({ live: n, expiryTicks: 0, leasesExpired: 0 });
    expect(vi.getTimerCount()).toBe(1); // one expiry timer for 10 000 deadlines

    vi.advanceTimersByTime(60_000 + 4 * 10); // exactly the first 5 deadlines pass
    const five = kernel.leaseStats();
    expect(five).toMatchObject({ live: n - 5, leasesExpired: 5, expiryTicks: 5 });
    // One lease per tick: its heap removal costs at most 2·log2(n) sift steps, not a scan of n.
    const perLease = 2 * Math.ceil(Math.log2(n));
    expect(five.heapOpsLastTick).toBeGreaterThan(0);
    expect(five.heapOpsLastTick).toBeLessThanOrEqual(perLease);

    // A lagging event loop: the clock jumps 1 s, so about 100 leases are due when the timer next fires.
    vi.setSystemTime(leases[104]!.expiresAt);
    vi.advanceTimersToNextTimer();
    const due = leases.filter((l) => l.expiresAt <= Date.now()).length;
    expect(due).toBeGreaterThanOrEqual(105);
    const batch = kernel.leaseStats();
    expect(batch.expiryTicks).toBe(6);
    expect(batch.leasesExpired).toBe(due);
    expect(batch.live).toBe(n - due);
    expect(batch.heapOpsLastTick).toBeGreaterThan(five.heapOpsLastTick);
    expect(batch.heapOpsLastTick).toBeLessThanOrEqual((due - 5) * perLease);
    expect(kernel.listLeases(instance.instanceId)).toHaveLength(n - due);
    expect(kernel.lookupLease(leases[due - 1]!.leaseRef)).toBeUndefined();
    expect(kernel.lookupLease(leases[due]!.leaseRef)).toBeDefined();
  });
});
