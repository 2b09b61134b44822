import pino, { type Logger } from 'pino';
import type { Lease } from '../contracts/lease.js';
import { InstanceStoppedError, KernelClosedError, LeaseNotFoundError } from '../errors/error-catalog.js';
import { KernelError } from '../errors/kernel-error.js';
import type { KernelEventMap } from '../telemetry/kernel-events.js';
import { capacityExhaustedError, leaseAbortedError } from './capacity-errors.js';
import { type CapacityWaiter, CapacityWaiterQueue, waitForCapacity } from './capacity-waiter.js';
import { createLeaseRef } from './create-lease-ref.js';
import { ExpiryScheduler } from './expiry-scheduler.js';
import { checkLeaseRequest, checkRenewTtl, checkTableDefaults, type LeaseRequest } from './lease-request.js';
import type {
  LeaseEventHandler,
  LeaseEventName,
  LeaseTableOptions,
  LeaseTableStats,
} from './lease-table-options.js';
import {
  type ClearTimer,
  type Clock,
  type SetTimer,
  systemClearTimer,
  systemClock,
  unrefSetTimer,
} from './timer-source.js';

export type { LeaseEventHandler, LeaseEventName, LeaseTableOptions, LeaseTableStats };

interface InstanceSlot {
  readonly instanceId: string;
  readonly leases: Set<LeaseRecord>;
  exclusive: boolean;
  /** Whether `onInstanceBusy` was the last hook called for this instance. */
  busy: boolean;
  waiters: CapacityWaiterQueue | undefined;
}

interface LeaseRecord {
  lease: Lease;
  readonly backend: string;
  readonly slot: InstanceSlot;
}

type EndKind = 'released' | 'expired';

/**
 * Live TTL leases per instance: acquire (with optional capacity `maxLeases` and `exclusive` leases, waiting in
 * FIFO order for a slot), renew, release, expiry and revocation. Expiry uses one timer for the earliest
 * deadline and a deadline heap, so each tick costs O(expired · log n). Leases returned are frozen snapshots;
 * `renew` returns a new one.
 */
export class LeaseTable {
  readonly #clock: Clock;
  readonly #setTimer: SetTimer;
  readonly #clearTimer: ClearTimer;
  readonly #onEvent: LeaseEventHandler | undefined;
  readonly #onBusy: ((instanceId: string) => void) | undefined;
  readonly #onEmpty: ((instanceId: string) => void) | undefined;
  readonly #defaultTtlMs: number;
  readonly #defaultCapacityWaitMs: number;
  readonly #newRef: () => string;
  readonly #logger: Logger;
  readonly #records = new Map<string, LeaseRecord>();
  readonly #slots = new Map<string, InstanceSlot>();
  readonly #expiry: ExpiryScheduler<string>;
  #closed = false;

  constructor(options: LeaseTableOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#setTimer = options.setTimer ?? unrefSetTimer;
    this.#clearTimer = options.clearTimer ?? systemClearTimer;
    this.#onEvent = options.onEvent;
    this.#onBusy = options.onInstanceBusy;
    this.#onEmpty = options.onInstanceEmpty;
    this.#defaultTtlMs = options.defaultTtlMs ?? 60_000;
    this.#defaultCapacityWaitMs = options.defaultCapacityWaitMs ?? 30_000;
    checkTableDefaults(this.#defaultTtlMs, this.#defaultCapacityWaitMs);
    this.#newRef = options.idGenerator ?? createLeaseRef;
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#expiry = new ExpiryScheduler<string>({
      clock: this.#clock,
      setTimer: this.#setTimer,
      clearTimer: this.#clearTimer,
      onExpired: (refs, now) => {
        for (const ref of refs) {
          const record = this.#records.get(ref);
          if (record) this.#end(record, now, 'expired');
        }
      },
    });
  }

  /** Live leases across all instances. */
  get size(): number {
    return this.#records.size;
  }

  /** A snapshot of the expiry work counters. */
  get stats(): LeaseTableStats {
    return this.#expiry.stats;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Grants a lease, waiting in FIFO order for capacity when the instance is full (it holds `maxLeases` live
   * leases or an exclusive lease, or the request is exclusive and any lease is live). Never throws
   * synchronously; a granted-at-once lease costs no timer and no extra promise.
   * @throws {ContractValidationError} `invalid_lease_request` for a bad field (nothing changes).
   * @throws {CapacityExhaustedError} no slot freed within `capacityWaitMs` (0 = fail at once).
   * @throws {AbortedError} `signal` aborted before or while waiting; the waiter is removed.
   * @throws {InstanceStoppedError} the instance was revoked while waiting.
   * @throws {KernelClosedError} the table is (or got) closed.
   */
  acquire(request: LeaseRequest): Promise<Lease> {
    try {
      this.#check(request);
      const slot = this.#slots.get(request.instanceId);
      if (!slot || (slot.waiters === undefined && this.#admits(slot, request))) {
        return Promise.resolve(this.#grant(slot, request, this.#clock.now(), 0));
      }
      return this.#wait(slot, request);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Grants a lease only if a slot is free now and nobody is queued ahead; otherwise returns `undefined`
   * without queueing. The synchronous hot path for callers that handle "full" themselves.
   * @throws {ContractValidationError} `invalid_lease_request` for a bad field.
   * @throws {AbortedError} `signal` already aborted.
   * @throws {KernelClosedError} the table is closed.
   */
  tryAcquire(request: LeaseRequest): Lease | undefined {
    this.#check(request);
    const slot = this.#slots.get(request.instanceId);
    if (slot && (slot.waiters !== undefined || !this.#admits(slot, request))) return undefined;
    return this.#grant(slot, request, this.#clock.now(), 0);
  }

  /**
   * Puts back a lease an earlier kernel granted (adoption after a daemon restart, guides/durable-state.md): same
   * reference, owner, TTL, deadline and metadata, whatever the instance's capacity. A lease already past its
   * deadline is not restored (returns undefined).
   * @throws {KernelClosedError} the table is closed; KernelError `duplicate_lease_ref` when the reference is live.
   */
  restore(lease: Lease, backend: string): Lease | undefined {
    if (this.#closed) throw new KernelClosedError('The lease table is closed.');
    const now = this.#clock.now();
    if (lease.expiresAt <= now) return undefined;
    const request: LeaseRequest = {
      instanceId: lease.instanceId,
      backend,
      ownerRef: lease.ownerRef,
      ttlMs: lease.ttlMs,
      exclusive: lease.exclusive,
      metadata: { ...lease.metadata },
    };
    return this.#grant(this.#slots.get(lease.instanceId), request, now, 0, lease);
  }

  /**
   * Extends a live lease to `now + ttlMs` and returns the new snapshot.
   * @param ttlMs new TTL in ms. @default the lease's current `ttlMs`
   * @throws {LeaseNotFoundError} `lease_not_found` for an unknown, released, revoked or expired lease.
   * @throws {ContractValidationError} `invalid_lease_request` when `ttlMs` is not a positive integer.
   * @throws {KernelClosedError} the table is closed.
   */
  renew(leaseRef: string, ttlMs?: number): Lease {
    if (this.#closed) throw new KernelClosedError('The lease table is closed.');
    checkRenewTtl(ttlMs);
    const now = this.#clock.now();
    const record = this.#liveRecord(leaseRef, now);
    if (!record) throw new LeaseNotFoundError(leaseRef);
    const ttl = ttlMs ?? record.lease.ttlMs;
    const lease: Lease = Object.freeze({ ...record.lease, ttlMs: ttl, expiresAt: now + ttl });
    record.lease = lease;
    this.#expiry.set(leaseRef, lease.expiresAt);
    if (this.#onEvent) {
      this.#emit('lease.renewed', { ...this.#base(record, now), ttlMs: ttl, expiresAt: lease.expiresAt });
    }
    return lease;
  }

  /**
   * Ends a live lease and hands its slot to the next waiter. Unknown, expired or already released → `false`
   * (a no-op success, never a throw).
   */
  release(leaseRef: string): boolean {
    if (this.#closed) return false;
    const now = this.#clock.now();
    const record = this.#liveRecord(leaseRef, now);
    if (!record) return false;
    this.#expiry.remove(leaseRef);
    this.#end(record, now, 'released');
    return true;
  }

  /**
   * Ends every lease of an instance (it died, failed or is stopping): `lease.revoked` per lease, and its
   * capacity waiters fail with `InstanceStoppedError`. Does not call `onInstanceEmpty`.
   * @param reason why, copied into each `lease.revoked` event (e.g. `process_exited`, `stopped`).
   * @returns the revoked leases (empty when it had none).
   */
  revokeInstance(instanceId: string, reason: string): Lease[] {
    const slot = this.#slots.get(instanceId);
    if (!slot || this.#closed) return [];
    this.#slots.delete(instanceId);
    const now = this.#clock.now();
    const records = [...slot.leases];
    for (const record of records) {
      this.#records.delete(record.lease.leaseRef);
      this.#expiry.remove(record.lease.leaseRef);
    }
    slot.leases.clear();
    slot.exclusive = false;
    slot.busy = false;
    const waiters = slot.waiters?.takeAll() ?? [];
    if (this.#onEvent) {
      for (const record of records) {
        this.#emit('lease.revoked', {
          ...this.#base(record, now),
          heldMs: now - record.lease.acquiredAt,
          reason,
        });
      }
    }
    for (const waiter of waiters) {
      waiter.cleanup();
      waiter.reject(
        new InstanceStoppedError(
          `Instance "${instanceId}" stopped (${reason}) while waiting for a lease slot; ensure the instance again.`,
          { instanceId, backend: waiter.request.backend, details: { reason } },
        ),
      );
    }
    return records.map((record) => record.lease);
  }

  /** The live lease with this reference, or `undefined` (also once its deadline has passed). */
  get(leaseRef: string): Lease | undefined {
    const record = this.#records.get(leaseRef);
    return record && record.lease.expiresAt > this.#clock.now() ? record.lease : undefined;
  }

  /** The instance's leases, oldest first, as the books stand (expiry is processed by the timer). */
  listByInstance(instanceId: string): Lease[] {
    const slot = this.#slots.get(instanceId);
    return slot ? [...slot.leases].map((record) => record.lease) : [];
  }

  /** Number of the instance's leases, as the books stand. */
  count(instanceId: string): number {
    return this.#slots.get(instanceId)?.leases.size ?? 0;
  }

  /** Number of callers waiting for a slot on the instance. */
  waiting(instanceId: string): number {
    return this.#slots.get(instanceId)?.waiters?.size ?? 0;
  }

  /**
   * Stops the table: clears the expiry timer and every waiter's timer, fails waiters with `KernelClosedError`
   * and forgets all leases without events (the kernel revokes first if it wants events). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#expiry.close();
    const waiters: CapacityWaiter[] = [];
    for (const slot of this.#slots.values()) if (slot.waiters) waiters.push(...slot.waiters.takeAll());
    this.#slots.clear();
    this.#records.clear();
    for (const waiter of waiters) {
      waiter.cleanup();
      waiter.reject(new KernelClosedError('The lease table was closed while waiting for a lease slot.'));
    }
  }

  #check(request: LeaseRequest): void {
    if (this.#closed) throw new KernelClosedError('The lease table is closed.');
    checkLeaseRequest(request);
    if (request.signal?.aborted) throw leaseAbortedError(request);
  }

  #admits(slot: InstanceSlot, request: LeaseRequest): boolean {
    const held = slot.leases.size;
    if (slot.exclusive || (request.exclusive === true && held > 0)) return false;
    return request.maxLeases === undefined || held < request.maxLeases;
  }

  #grant(
    existing: InstanceSlot | undefined,
    request: LeaseRequest,
    now: number,
    waitedMs: number,
    restored?: Lease,
  ): Lease {
    const leaseRef = restored?.leaseRef ?? this.#newRef();
    if (this.#records.has(leaseRef)) {
      throw new KernelError('duplicate_lease_ref', `idGenerator returned "${leaseRef}", already in use.`, {
        instanceId: request.instanceId,
      });
    }
    const slot = existing ?? this.#newSlot(request.instanceId);
    const ttlMs = request.ttlMs ?? this.#defaultTtlMs;
    const exclusive = request.exclusive === true;
    const lease: Lease = Object.freeze({
      leaseRef,
      instanceId: request.instanceId,
      ownerRef: request.ownerRef,
      ttlMs,
      expiresAt: restored?.expiresAt ?? now + ttlMs,
      acquiredAt: restored?.acquiredAt ?? now,
      renewable: true,
      exclusive,
      metadata: request.metadata ?? {},
    });
    const record: LeaseRecord = { lease, backend: request.backend, slot };
    this.#records.set(leaseRef, record);
    slot.leases.add(record);
    if (exclusive) slot.exclusive = true;
    this.#expiry.set(leaseRef, lease.expiresAt);
    if (!slot.busy) {
      slot.busy = true;
      this.#hook(this.#onBusy, slot.instanceId);
    }
    if (this.#onEvent) {
      this.#emit('lease.acquired', {
        ...this.#base(record, now),
        ttlMs,
        expiresAt: lease.expiresAt,
        waitedMs,
        exclusive,
      });
    }
    return lease;
  }

  #newSlot(instanceId: string): InstanceSlot {
    const slot: InstanceSlot = {
      instanceId,
      leases: new Set(),
      exclusive: false,
      busy: false,
      waiters: undefined,
    };
    this.#slots.set(instanceId, slot);
    return slot;
  }

  #wait(slot: InstanceSlot, request: LeaseRequest): Promise<Lease> {
    const waitMs = request.capacityWaitMs ?? this.#defaultCapacityWaitMs;
    if (waitMs === 0) throw capacityExhaustedError(this.#snapshot(slot), request, 0, 0);
    slot.waiters ??= new CapacityWaiterQueue();
    const now = this.#clock.now();
    return waitForCapacity(slot.waiters, request, {
      waitMs,
      now,
      setTimer: this.#setTimer,
      clearTimer: this.#clearTimer,
      timeoutError: () =>
        capacityExhaustedError(this.#snapshot(slot), request, this.#clock.now() - now, waitMs),
      abortError: () => leaseAbortedError(request),
      onLeft: () => this.#afterWaiterLeft(slot),
    });
  }

  // A waiter that leaves from the head may unblock the ones behind it (e.g. an exclusive request).
  #afterWaiterLeft(slot: InstanceSlot): void {
    this.#drain(slot);
    if (slot.waiters?.size === 0) slot.waiters = undefined;
    this.#dropIfUnused(slot);
  }

  #drain(slot: InstanceSlot): void {
    const queue = slot.waiters;
    if (!queue || this.#closed) return;
    for (let head = queue.peek(); head && this.#admits(slot, head.request); head = queue.peek()) {
      queue.remove(head);
      head.cleanup();
      const now = this.#clock.now();
      let lease: Lease;
      try {
        lease = this.#grant(slot, head.request, now, now - head.enqueuedAt);
      } catch (error) {
        head.reject(error);
        continue;
      }
      head.resolve(lease);
    }
    if (queue.size === 0) slot.waiters = undefined;
  }

  /** A lease with a passed deadline counts as expired even if the timer has not fired yet (a lagging loop). */
  #liveRecord(leaseRef: string, now: number): LeaseRecord | undefined {
    const record = this.#records.get(leaseRef);
    if (!record) return undefined;
    if (record.lease.expiresAt > now) return record;
    this.#expiry.expireDue(now);
    return undefined;
  }

  #end(record: LeaseRecord, now: number, kind: EndKind): void {
    const { slot, lease } = record;
    this.#records.delete(lease.leaseRef);
    slot.leases.delete(record);
    if (lease.exclusive) slot.exclusive = false;
    if (this.#onEvent) {
      this.#emit(kind === 'released' ? 'lease.released' : 'lease.expired', {
        ...this.#base(record, now),
        heldMs: now - lease.acquiredAt,
      });
    }
    this.#drain(slot);
    if (slot.leases.size === 0 && slot.busy) {
      slot.busy = false;
      this.#hook(this.#onEmpty, slot.instanceId);
    }
    this.#dropIfUnused(slot);
  }

  #dropIfUnused(slot: InstanceSlot): void {
    if (slot.leases.size === 0 && slot.waiters === undefined && this.#slots.get(slot.instanceId) === slot) {
      this.#slots.delete(slot.instanceId);
    }
  }

  #snapshot(slot: InstanceSlot) {
    return { instanceId: slot.instanceId, held: slot.leases.size, exclusiveHeld: slot.exclusive };
  }

  #base(record: LeaseRecord, at: number) {
    const { leaseRef, instanceId, ownerRef } = record.lease;
    return { leaseRef, instanceId, backend: record.backend, ownerRef, at };
  }

  #emit<K extends LeaseEventName>(name: K, payload: KernelEventMap[K]): void {
    try {
      this.#onEvent?.(name, payload);
    } catch (error) {
      this.#logger.error({ err: error, event: name }, 'lease event listener threw');
    }
  }

  #hook(hook: ((instanceId: string) => void) | undefined, instanceId: string): void {
    try {
      hook?.(instanceId);
    } catch (error) {
      this.#logger.error({ err: error, instanceId }, 'lease instance hook threw');
    }
  }
}
