import type { Lease } from '../contracts/lease.js';
import type { LeaseRequest } from './lease-request.js';
import { type ClearTimer, MAX_TIMER_DELAY_MS, type SetTimer, type TimerHandle } from './timer-source.js';

/** One caller waiting for a lease slot on a full instance. */
export interface CapacityWaiter {
  readonly request: LeaseRequest;
  /** Clock ms when the wait began; `waitedMs` is measured from here. */
  readonly enqueuedAt: number;
  resolve(lease: Lease): void;
  reject(error: unknown): void;
  /** Releases the waiter's timer and abort listener; called exactly once, on every path. */
  cleanup(): void;
  /** @internal queue links */
  prev: CapacityWaiter | undefined;
  /** @internal queue links */
  next: CapacityWaiter | undefined;
  /** @internal the queue holding this waiter, if any */
  queue: CapacityWaiterQueue | undefined;
}

// A linked list rather than an array: an aborted waiter leaves from the middle in O(1).
/** A FIFO of capacity waiters for one instance. */
export class CapacityWaiterQueue {
  #head: CapacityWaiter | undefined;
  #tail: CapacityWaiter | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The longest-waiting waiter, or `undefined`. */
  peek(): CapacityWaiter | undefined {
    return this.#head;
  }

  push(waiter: CapacityWaiter): void {
    waiter.queue = this;
    waiter.prev = this.#tail;
    waiter.next = undefined;
    if (this.#tail) this.#tail.next = waiter;
    else this.#head = waiter;
    this.#tail = waiter;
    this.#size++;
  }

  /** Unlinks `waiter`; returns false when it is not in this queue. */
  remove(waiter: CapacityWaiter): boolean {
    if (waiter.queue !== this) return false;
    if (waiter.prev) waiter.prev.next = waiter.next;
    else this.#head = waiter.next;
    if (waiter.next) waiter.next.prev = waiter.prev;
    else this.#tail = waiter.prev;
    waiter.prev = waiter.next = waiter.queue = undefined;
    this.#size--;
    return true;
  }

  /** Removes and returns every waiter, oldest first. */
  takeAll(): CapacityWaiter[] {
    const all: CapacityWaiter[] = [];
    for (let w = this.#head; w; w = this.#head) {
      this.remove(w);
      all.push(w);
    }
    return all;
  }
}

export interface WaitForCapacityOptions {
  /** ms to wait; `>= MAX_TIMER_DELAY_MS` (e.g. Infinity) arms no timer. */
  waitMs: number;
  /** Clock ms now; becomes the waiter's `enqueuedAt`. */
  now: number;
  setTimer: SetTimer;
  clearTimer: ClearTimer;
  /** The error to reject with when `waitMs` passes; receives the ms waited. */
  timeoutError: () => unknown;
  /** The error to reject with when the request's signal aborts. */
  abortError: () => unknown;
  /** Called after a waiter left by timeout or abort, so the queue's owner can admit the ones behind it. */
  onLeft: () => void;
}

// The wait path is the only place that allocates a promise, a timer and an abort listener.
/** Queues a waiter for `request`; the queue's owner resolves it (after `remove` + `cleanup`) when a slot frees. */
export function waitForCapacity(
  queue: CapacityWaiterQueue,
  request: LeaseRequest,
  options: WaitForCapacityOptions,
): Promise<Lease> {
  return new Promise<Lease>((resolve, reject) => {
    let timer: TimerHandle | undefined;
    const { signal } = request;
    const leave = (error: unknown) => {
      if (!queue.remove(waiter)) return;
      waiter.cleanup();
      reject(error);
      options.onLeft();
    };
    const onAbort = () => leave(options.abortError());
    const waiter: CapacityWaiter = {
      request,
      enqueuedAt: options.now,
      resolve,
      reject,
      cleanup: () => {
        if (timer !== undefined) options.clearTimer(timer);
        signal?.removeEventListener('abort', onAbort);
      },
      prev: undefined,
      next: undefined,
      queue: undefined,
    };
    queue.push(waiter);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (options.waitMs < MAX_TIMER_DELAY_MS) {
      timer = options.setTimer(() => leave(options.timeoutError()), options.waitMs);
    }
  });
}
