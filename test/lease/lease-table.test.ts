import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KernelError } from '../../src/errors/kernel-error.js';
import type { LeaseRequest } from '../../src/lease/lease-request.js';
import { LeaseTable, type LeaseTableOptions } from '../../src/lease/lease-table.js';

const START = 1_700_000_000_000;

interface Recorded {
  name: string;
  payload: Record<string, unknown>;
}

function makeTable(options: LeaseTableOptions = {}) {
  const events: Recorded[] = [];
  const hooks: string[] = [];
  const table = new LeaseTable({
    onEvent: (name, payload) => events.push({ name, payload: { ...payload } }),
    onInstanceBusy: (id) => hooks.push(`busy:${id}`),
    onInstanceEmpty: (id) => hooks.push(`empty:${id}`),
    ...options,
  });
  const named = (name: string) => events.filter((e) => e.name === name).map((e) => e.payload);
  return { table, events, hooks, named };
}

function request(overrides: Partial<LeaseRequest> = {}): LeaseRequest {
  return { instanceId: 'inst-1', backend: 'llama-cpp', ownerRef: 'owner-a', ttlMs: 1_000, ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<KernelError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(KernelError.isInstance(error)).toBe(true);
  return error as KernelError;
}

describe('LeaseTable', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('grants a lease with an unguessable ref and a deadline of now + ttl, and emits lease.acquired', async () => {
    const { table, named } = makeTable();
    const lease = await table.acquire(request({ metadata: { runId: 'r1' } }));
    expect(lease.leaseRef).toMatch(/^lease_[A-Za-z0-9_-]{22}$/);
    expect(lease).toMatchObject({
      instanceId: 'inst-1',
      ownerRef: 'owner-a',
      ttlMs: 1_000,
      acquiredAt: START,
      expiresAt: START + 1_000,
      renewable: true,
      exclusive: false,
      metadata: { runId: 'r1' },
    });
    expect(Object.isFrozen(lease)).toBe(true);
    const other = await table.acquire(request());
    expect(other.leaseRef).not.toBe(lease.leaseRef);
    expect(named('lease.acquired')[0]).toEqual({
      leaseRef: lease.leaseRef,
      instanceId: 'inst-1',
      backend: 'llama-cpp',
      ownerRef: 'owner-a',
      at: START,
      ttlMs: 1_000,
      expiresAt: START + 1_000,
      waitedMs: 0,
      exclusive: false,
    });
    table.close();
  });

  it('uses defaultTtlMs when the request has no ttlMs', async () => {
    const { table } = makeTable({ defaultTtlMs: 5_000 });
    const lease = await table.acquire(request({ ttlMs: undefined }));
    expect(lease.ttlMs).toBe(5_000);
    expect(new LeaseTable().tryAcquire(request({ ttlMs: undefined }))?.ttlMs).toBe(60_000);
    table.close();
  });

  it('expires a lease at its deadline with a lease.expired event and the same bookkeeping as release', async () => {
    const { table, named, hooks } = makeTable();
    const lease = await table.acquire(request());
    vi.advanceTimersByTime(999);
    expect(table.get(lease.leaseRef)).toBeDefined();
    expect(named('lease.expired')).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(table.get(lease.leaseRef)).toBeUndefined();
    expect(table.count('inst-1')).toBe(0);
    expect(table.size).toBe(0);
    expect(named('lease.expired')).toEqual([
      {
        leaseRef: lease.leaseRef,
        instanceId: 'inst-1',
        backend: 'llama-cpp',
        ownerRef: 'owner-a',
        at: START + 1_000,
        heldMs: 1_000,
      },
    ]);
    expect(hooks).toEqual(['busy:inst-1', 'empty:inst-1']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('extends a lease on renew, keeping its ttl unless a new one is given', async () => {
    const { table, named } = makeTable();
    const lease = await table.acquire(request());
    vi.advanceTimersByTime(600);
    const renewed = table.renew(lease.leaseRef);
    expect(renewed.expiresAt).toBe(START + 1_600);
    expect(lease.expiresAt).toBe(START + 1_000);
    vi.advanceTimersByTime(900);
    expect(table.get(lease.leaseRef)?.expiresAt).toBe(START + 1_600);
    expect(named('lease.expired')).toEqual([]);
    const longer = table.renew(lease.leaseRef, 10_000);
    expect(longer).toMatchObject({ ttlMs: 10_000, expiresAt: START + 11_500 });
    expect(named('lease.renewed').at(-1)).toEqual({
      leaseRef: lease.leaseRef,
      instanceId: 'inst-1',
      backend: 'llama-cpp',
      ownerRef: 'owner-a',
      at: START + 1_500,
      ttlMs: 10_000,
      expiresAt: START + 11_500,
    });
    vi.advanceTimersByTime(9_999);
    expect(table.get(lease.leaseRef)).toBeDefined();
    vi.advanceTimersByTime(1);
    expect(named('lease.expired')).toHaveLength(1);
  });

  it('re-arms the expiry timer when a renew shortens the earliest deadline', async () => {
    const { table, named } = makeTable();
    const lease = await table.acquire(request({ ttlMs: 60_000 }));
    table.renew(lease.leaseRef, 100);
    vi.advanceTimersByTime(100);
    expect(named('lease.expired')).toHaveLength(1);
  });

  it('releases a live lease once, and a second release or an unknown ref is a no-op returning false', async () => {
    const { table, named, hooks } = makeTable();
    const lease = await table.acquire(request());
    vi.advanceTimersByTime(250);
    expect(table.release(lease.leaseRef)).toBe(true);
    expect(named('lease.released')).toEqual([
      expect.objectContaining({ leaseRef: lease.leaseRef, heldMs: 250, at: START + 250 }),
    ]);
    expect(table.release(lease.leaseRef)).toBe(false);
    expect(table.release('lease_nope')).toBe(false);
    expect(hooks).toEqual(['busy:inst-1', 'empty:inst-1']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('treats release after expiry as a no-op returning false', async () => {
    const { table, named } = makeTable();
    const lease = await table.acquire(request());
    vi.advanceTimersByTime(1_000);
    expect(table.release(lease.leaseRef)).toBe(false);
    expect(named('lease.released')).toEqual([]);
    expect(named('lease.expired')).toHaveLength(1);
  });

  it('expires a lease whose deadline passed before the timer ran, on release or renew', async () => {
    let now = START;
    const { table, named } = makeTable({ clock: { now: () => now } });
    const a = await table.acquire(request());
    const b = await table.acquire(request());
    now += 1_000; // the clock moved but no timer ran: an event loop lagging behind
    expect(table.release(a.leaseRef)).toBe(false);
    expect(() => table.renew(b.leaseRef)).toThrow(expect.objectContaining({ code: 'lease_not_found' }));
    expect(named('lease.expired').map((p) => p.leaseRef)).toEqual([a.leaseRef, b.leaseRef]);
    expect(table.size).toBe(0);
  });

  it('refuses to renew an expired or unknown lease with lease_not_found', async () => {
    const { table } = makeTable();
    const lease = await table.acquire(request());
    vi.advanceTimersByTime(1_000);
    expect(() => table.renew(lease.leaseRef)).toThrow(expect.objectContaining({ code: 'lease_not_found' }));
    expect(() => table.renew('lease_unknown')).toThrow(expect.objectContaining({ code: 'lease_not_found' }));
  });

  it('revokes every lease of an instance with a lease.revoked event each, leaving other instances alone', async () => {
    const { table, named, hooks } = makeTable();
    const a = await table.acquire(request());
    const b = await table.acquire(request({ ownerRef: 'owner-b' }));
    const other = await table.acquire(request({ instanceId: 'inst-2' }));
    vi.advanceTimersByTime(100);
    const revoked = table.revokeInstance('inst-1', 'process_exited');
    expect(revoked.map((l) => l.leaseRef)).toEqual([a.leaseRef, b.leaseRef]);
    expect(named('lease.revoked')).toEqual([
      expect.objectContaining({
        leaseRef: a.leaseRef,
        reason: 'process_exited',
        heldMs: 100,
        ownerRef: 'owner-a',
      }),
      expect.objectContaining({
        leaseRef: b.leaseRef,
        reason: 'process_exited',
        heldMs: 100,
        ownerRef: 'owner-b',
      }),
    ]);
    expect(table.count('inst-1')).toBe(0);
    expect(table.get(other.leaseRef)).toBeDefined();
    expect(table.release(a.leaseRef)).toBe(false);
    expect(table.revokeInstance('inst-1', 'again')).toEqual([]);
    expect(hooks).toEqual(['busy:inst-1', 'busy:inst-2']);
    table.close();
  });

  it('makes a caller wait when maxLeases are held and hands it the slot when one is released', async () => {
    const { table, named } = makeTable();
    const first = await table.acquire(request({ maxLeases: 2 }));
    await table.acquire(request({ maxLeases: 2 }));
    let granted: string | undefined;
    const waiting = table.acquire(request({ maxLeases: 2, ownerRef: 'late', capacityWaitMs: 5_000 }));
    void waiting.then((lease) => {
      granted = lease.leaseRef;
    });
    await vi.advanceTimersByTimeAsync(300);
    expect(granted).toBeUndefined();
    expect(table.waiting('inst-1')).toBe(1);
    expect(table.release(first.leaseRef)).toBe(true);
    const lease = await waiting;
    expect(lease.ownerRef).toBe('late');
    expect(lease.acquiredAt).toBe(START + 300);
    expect(table.count('inst-1')).toBe(2);
    expect(table.waiting('inst-1')).toBe(0);
    expect(named('lease.acquired').at(-1)).toMatchObject({ ownerRef: 'late', waitedMs: 300 });
    expect(named('lease.released')).toHaveLength(1);
    table.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails at once with capacity_exhausted naming the instance, the limit and the count when capacityWaitMs is 0', async () => {
    const { table } = makeTable();
    await table.acquire(request({ maxLeases: 1 }));
    const error = await rejection(table.acquire(request({ maxLeases: 1, capacityWaitMs: 0 })));
    expect(error.code).toBe('capacity_exhausted');
    expect(error.instanceId).toBe('inst-1');
    expect(error.message).toContain('inst-1');
    expect(error.message).toContain('maxLeases is 1');
    expect(error.details).toMatchObject({ held: 1, maxLeases: 1, waitedMs: 0 });
    expect(table.waiting('inst-1')).toBe(0);
    expect(vi.getTimerCount()).toBe(1);
    table.close();
  });

  it('fails with capacity_exhausted when no slot frees within capacityWaitMs, and removes the waiter', async () => {
    const { table } = makeTable();
    await table.acquire(request({ maxLeases: 1, ttlMs: 60_000 }));
    const waiting = rejection(table.acquire(request({ maxLeases: 1, capacityWaitMs: 2_000 })));
    await vi.advanceTimersByTimeAsync(2_000);
    const error = await waiting;
    expect(error.code).toBe('capacity_exhausted');
    expect(error.details).toMatchObject({ held: 1, maxLeases: 1, waitedMs: 2_000 });
    expect(table.waiting('inst-1')).toBe(0);
    expect(vi.getTimerCount()).toBe(1);
    table.close();
  });

  it('rejects with aborted and removes the waiter when the signal aborts while waiting', async () => {
    const { table } = makeTable();
    const held = await table.acquire(request({ maxLeases: 1 }));
    const controller = new AbortController();
    const waiting = rejection(
      table.acquire(request({ maxLeases: 1, signal: controller.signal, capacityWaitMs: 10_000 })),
    );
    expect(table.waiting('inst-1')).toBe(1);
    expect(vi.getTimerCount()).toBe(2);
    controller.abort(new Error('caller gave up'));
    const error = await waiting;
    expect(error.code).toBe('aborted');
    expect((error.cause as Error).message).toBe('caller gave up');
    expect(table.waiting('inst-1')).toBe(0);
    expect(vi.getTimerCount()).toBe(1);
    expect(table.release(held.leaseRef)).toBe(true);
    expect(table.count('inst-1')).toBe(0);
  });

  it('rejects an already aborted request with aborted and grants nothing', async () => {
    const { table, events } = makeTable();
    const error = await rejection(table.acquire(request({ signal: AbortSignal.abort() })));
    expect(error.code).toBe('aborted');
    expect(table.size).toBe(0);
    expect(events).toEqual([]);
  });

  it('admits the waiters behind a head waiter that gave up', async () => {
    const { table } = makeTable();
    await table.acquire(request());
    const controller = new AbortController();
    const exclusive = rejection(table.acquire(request({ exclusive: true, signal: controller.signal })));
    const shared = table.acquire(request({ ownerRef: 'behind' }));
    expect(table.waiting('inst-1')).toBe(2);
    controller.abort();
    expect((await exclusive).code).toBe('aborted');
    expect((await shared).ownerRef).toBe('behind');
    expect(table.count('inst-1')).toBe(2);
    table.close();
  });

  it('serves waiters first-come first-served', async () => {
    const { table } = makeTable();
    const held = await table.acquire(request({ maxLeases: 1, ttlMs: 60_000 }));
    const order: string[] = [];
    const waiters = ['w1', 'w2', 'w3'].map((ownerRef) =>
      table.acquire(request({ maxLeases: 1, ownerRef, ttlMs: 60_000 })).then((lease) => {
        order.push(lease.ownerRef);
        return lease;
      }),
    );
    let previous = held.leaseRef;
    for (let i = 0; i < 3; i++) {
      table.release(previous);
      previous = (await waiters[i]!).leaseRef;
    }
    expect(order).toEqual(['w1', 'w2', 'w3']);
    table.close();
  });

  it('does not let a fresh request jump ahead of a queued waiter', async () => {
    const { table } = makeTable();
    const held = await table.acquire(request({ maxLeases: 1 }));
    const queued = table.acquire(request({ maxLeases: 1, ownerRef: 'queued' }));
    expect(table.tryAcquire(request({ maxLeases: 5 }))).toBeUndefined();
    table.release(held.leaseRef);
    expect((await queued).ownerRef).toBe('queued');
    table.close();
  });

  it('blocks all other leases while an exclusive lease is live', async () => {
    const { table } = makeTable();
    const exclusive = await table.acquire(request({ exclusive: true }));
    expect(exclusive.exclusive).toBe(true);
    const error = await rejection(table.acquire(request({ capacityWaitMs: 0 })));
    expect(error.code).toBe('capacity_exhausted');
    expect(error.message).toContain('exclusive');
    const shared = table.acquire(request({ ownerRef: 'shared' }));
    table.release(exclusive.leaseRef);
    expect((await shared).ownerRef).toBe('shared');
    table.close();
  });

  it('makes an exclusive request wait until every other lease is gone', async () => {
    const { table } = makeTable();
    const a = await table.acquire(request());
    const b = await table.acquire(request());
    let granted = false;
    const exclusive = table.acquire(request({ exclusive: true, ownerRef: 'solo' })).then((lease) => {
      granted = true;
      return lease;
    });
    table.release(a.leaseRef);
    await Promise.resolve();
    expect(granted).toBe(false);
    expect(table.tryAcquire(request())).toBeUndefined();
    table.release(b.leaseRef);
    expect((await exclusive).exclusive).toBe(true);
    expect(table.count('inst-1')).toBe(1);
    table.close();
  });

  it('fails capacity waiters with instance_stopped when their instance is revoked', async () => {
    const { table } = makeTable();
    await table.acquire(request({ maxLeases: 1 }));
    const waiting = rejection(table.acquire(request({ maxLeases: 1 })));
    table.revokeInstance('inst-1', 'crashed');
    const error = await waiting;
    expect(error.code).toBe('instance_stopped');
    expect(error.message).toContain('crashed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('arms one timer for many leases, and granting a lease with a later deadline touches no timer', async () => {
    const { table } = makeTable();
    await table.acquire(request({ ttlMs: 1_000 }));
    expect(vi.getTimerCount()).toBe(1);
    for (let i = 0; i < 100; i++) table.tryAcquire(request({ ttlMs: 2_000 + i }));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(2_100);
    expect(table.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('spends expiry work per tick proportional to what expired among 10 000 live leases', () => {
    const { table, named } = makeTable();
    const n = 10_000;
    for (let i = 0; i < n; i++) table.tryAcquire(request({ ttlMs: 1_000 + i * 10, ownerRef: `o${i}` }));
    expect(table.size).toBe(n);
    const before = table.stats;
    vi.advanceTimersByTime(1_000 + 4 * 10); // exactly the first 5 deadlines pass
    const after = table.stats;
    const k = after.leasesExpired - before.leasesExpired;
    expect(k).toBe(5);
    expect(named('lease.expired')).toHaveLength(5);
    expect(table.size).toBe(n - k);
    const ticks = after.expiryTicks - before.expiryTicks;
    expect(ticks).toBe(5);
    // Each tick popped one lease: its sift-down is at most 2·log2(n) steps, far below a scan of n.
    expect(after.heapOpsLastTick).toBeGreaterThan(0);
    expect(after.heapOpsLastTick).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)));
    // A batch: the clock jumps (a busy event loop) so about 1 000 more expire in a single tick.
    const batchBefore = table.stats;
    vi.setSystemTime(START + 1_000 + 1_000 * 10);
    vi.advanceTimersToNextTimer();
    const batch = table.stats;
    const due = Math.floor((Date.now() - START - 1_000) / 10) + 1;
    expect(batch.expiryTicks - batchBefore.expiryTicks).toBe(1);
    expect(batch.leasesExpired).toBe(due);
    expect(due).toBeGreaterThanOrEqual(1_000);
    expect(table.size).toBe(n - due);
    expect(batch.heapOpsLastTick).toBeLessThanOrEqual(1_000 * 2 * Math.ceil(Math.log2(n)));
    table.close();
  });

  it('calls onInstanceBusy on 0 → 1 and onInstanceEmpty on 1 → 0 live leases', async () => {
    const { table, hooks } = makeTable();
    const a = await table.acquire(request());
    const b = await table.acquire(request());
    expect(hooks).toEqual(['busy:inst-1']);
    table.release(a.leaseRef);
    expect(hooks).toEqual(['busy:inst-1']);
    table.release(b.leaseRef);
    expect(hooks).toEqual(['busy:inst-1', 'empty:inst-1']);
    await table.acquire(request());
    expect(hooks).toEqual(['busy:inst-1', 'empty:inst-1', 'busy:inst-1']);
    table.close();
  });

  it('does not report an instance empty when a released slot goes straight to a waiter', async () => {
    const { table, hooks } = makeTable();
    const held = await table.acquire(request({ maxLeases: 1 }));
    const waiting = table.acquire(request({ maxLeases: 1 }));
    table.release(held.leaseRef);
    await waiting;
    expect(hooks).toEqual(['busy:inst-1']);
    table.close();
  });

  it('rejects a bad request with invalid_lease_request naming each field, and changes nothing', async () => {
    const { table, events } = makeTable();
    const error = await rejection(
      table.acquire({
        instanceId: '',
        backend: 'x',
        ownerRef: 'o',
        ttlMs: -5,
        maxLeases: 1.5,
      } as LeaseRequest),
    );
    expect(error.code).toBe('invalid_lease_request');
    expect(error.message).toContain('instanceId');
    expect(error.message).toContain('ttlMs');
    expect(error.message).toContain('received number -5');
    expect(error.message).toContain('maxLeases');
    expect(() => table.renew('lease_x', 0)).toThrow(
      expect.objectContaining({ code: 'invalid_lease_request' }),
    );
    expect(table.size).toBe(0);
    expect(events).toEqual([]);
  });

  it('rejects bad table defaults with invalid_lease_request naming the option', () => {
    expect(() => new LeaseTable({ defaultTtlMs: 0 })).toThrow(
      expect.objectContaining({
        code: 'invalid_lease_request',
        message: expect.stringContaining('defaultTtlMs'),
      }),
    );
    expect(() => new LeaseTable({ defaultCapacityWaitMs: -1 })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('defaultCapacityWaitMs') }),
    );
  });

  it('keeps its books straight when an event listener throws', async () => {
    const table = new LeaseTable({
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    const lease = await table.acquire(request());
    expect(table.count('inst-1')).toBe(1);
    expect(table.release(lease.leaseRef)).toBe(true);
    expect(table.size).toBe(0);
    table.close();
  });

  it('uses the injected idGenerator and rejects a duplicate ref without granting', async () => {
    const { table } = makeTable({ idGenerator: () => 'lease_fixed' });
    expect((await table.acquire(request())).leaseRef).toBe('lease_fixed');
    const error = await rejection(table.acquire(request({ instanceId: 'inst-2' })));
    expect(error.code).toBe('duplicate_lease_ref');
    expect(table.size).toBe(1);
    expect(table.count('inst-2')).toBe(0);
    table.close();
  });

  it('drives expiry from injected setTimer/clearTimer and clock', async () => {
    let now = 0;
    const timers = new Map<number, { fire: () => void; at: number }>();
    let nextId = 0;
    const { table, named } = makeTable({
      clock: { now: () => now },
      setTimer: (fire, delayMs) => {
        timers.set(++nextId, { fire, at: now + delayMs });
        return nextId;
      },
      clearTimer: (id) => timers.delete(id as number),
    });
    await table.acquire(request({ ttlMs: 50 }));
    expect([...timers.values()].map((t) => t.at)).toEqual([50]);
    now = 50;
    const [id, timer] = [...timers][0]!;
    timers.delete(id);
    timer.fire();
    expect(named('lease.expired')).toHaveLength(1);
    expect(timers.size).toBe(0);
    table.close();
  });

  it('leaves no timer behind after close, and fails its waiters with kernel_closed', async () => {
    const { table } = makeTable();
    await table.acquire(request({ maxLeases: 1 }));
    const waiting = rejection(table.acquire(request({ maxLeases: 1, capacityWaitMs: 30_000 })));
    expect(vi.getTimerCount()).toBe(2);
    table.close();
    table.close();
    expect((await waiting).code).toBe('kernel_closed');
    expect(vi.getTimerCount()).toBe(0);
    expect(table.size).toBe(0);
    expect((await rejection(table.acquire(request()))).code).toBe('kernel_closed');
    expect(() => table.renew('lease_x')).toThrow(expect.objectContaining({ code: 'kernel_closed' }));
    expect(table.release('lease_x')).toBe(false);
  });
});
