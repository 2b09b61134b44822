import { DeadlineHeap } from './deadline-heap.js';
import {
  type ClearTimer,
  type Clock,
  MAX_TIMER_DELAY_MS,
  type SetTimer,
  type TimerHandle,
} from './timer-source.js';

/** Expiry work counters, to show expiry costs O(expired · log n) per tick rather than O(all keys). */
export interface ExpiryStats {
  /** Times the expiry timer fired (including early, no-op fires). */
  expiryTicks: number;
  /** Keys expired since construction (by the timer or by `expireDue`). */
  leasesExpired: number;
  /** Heap sift steps spent popping expired keys in the last timer tick. */
  heapOpsLastTick: number;
}

export interface ExpirySchedulerOptions<K> {
  clock: Clock;
  setTimer: SetTimer;
  clearTimer: ClearTimer;
  /** Receives the keys whose deadline is `<= now`, earliest first; may schedule or remove keys. */
  onExpired: (keys: K[], now: number) => void;
}

/**
 * Deadlines in a heap plus ONE timer for the earliest of them. The timer is lazy: a later earliest deadline
 * keeps the armed timer (it fires early, finds nothing due and re-arms), so only an earlier deadline or an
 * empty heap touches the timer, and most schedules and removals cost no timer call.
 */
export class ExpiryScheduler<K> {
  readonly #heap = new DeadlineHeap<K>();
  readonly #options: ExpirySchedulerOptions<K>;
  readonly #stats: ExpiryStats = { expiryTicks: 0, leasesExpired: 0, heapOpsLastTick: 0 };
  #timer: TimerHandle | undefined;
  #armedFor = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(options: ExpirySchedulerOptions<K>) {
    this.#options = options;
  }

  /** A snapshot of the work counters. */
  get stats(): ExpiryStats {
    return { ...this.#stats };
  }

  /** Number of scheduled keys. */
  get size(): number {
    return this.#heap.size;
  }

  /** Whether a timer is currently armed. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Schedules or reschedules `key` at `deadline` (clock ms). O(log n). */
  set(key: K, deadline: number): void {
    this.#heap.set(key, deadline);
    if (deadline < this.#armedFor) this.#arm();
  }

  /** Unschedules `key`; false when it was not scheduled. O(log n). */
  remove(key: K): boolean {
    const removed = this.#heap.remove(key);
    if (this.#heap.size === 0) this.#disarm();
    return removed;
  }

  /** Expires every key due at `now` without waiting for the timer (the event loop may lag the clock). */
  expireDue(now: number): void {
    this.#expire(now);
  }

  /** Clears the timer and every key. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#disarm();
    this.#heap.clear();
  }

  #expire(now: number): number {
    const before = this.#heap.operations;
    const keys = this.#heap.popExpired(now);
    const work = this.#heap.operations - before;
    this.#stats.leasesExpired += keys.length;
    if (keys.length > 0) this.#options.onExpired(keys, now);
    const earliest = this.#heap.peekDeadline();
    if (earliest === undefined) this.#disarm();
    else if (earliest < this.#armedFor) this.#arm();
    return work;
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    this.#stats.expiryTicks++;
    this.#stats.heapOpsLastTick = this.#expire(this.#options.clock.now());
  };

  #arm(): void {
    const earliest = this.#heap.peekDeadline();
    if (earliest === undefined || this.#closed) return;
    if (this.#timer !== undefined) this.#options.clearTimer(this.#timer);
    this.#armedFor = earliest;
    const delay = Math.min(Math.max(1, Math.ceil(earliest - this.#options.clock.now())), MAX_TIMER_DELAY_MS);
    this.#timer = this.#options.setTimer(this.#onTimer, delay);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#options.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }
}
