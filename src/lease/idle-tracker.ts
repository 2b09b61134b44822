import pino, { type Logger } from 'pino';
import { ContractValidationError } from '../errors/error-catalog.js';
import {
  type ClearTimer,
  type Clock,
  MAX_TIMER_DELAY_MS,
  type SetTimer,
  systemClearTimer,
  systemClock,
  type TimerHandle,
  unrefSetTimer,
} from './timer-source.js';

export interface IdleTrackerOptions {
  /** Called once when an instance has been idle for its `idleShutdownMs`; the kernel stops it. */
  onIdle: (instanceId: string) => void;
  /** Source of epoch ms. @default Date.now */
  clock?: Clock;
  /** @default an unref'd setTimeout */
  setTimer?: SetTimer;
  /** @default clearTimeout */
  clearTimer?: ClearTimer;
  /** Receives errors thrown by `onIdle`. @default silent pino */
  logger?: Logger;
}

interface IdleEntry {
  /** Clock ms when the instance became idle. */
  since: number;
  /** Clock ms at which it idles out; `Infinity` = never. */
  deadline: number;
  timer: TimerHandle | undefined;
}

/**
 * Per-instance idle-shutdown timers. The kernel calls `markIdle` when an instance becomes ready with no leases
 * and when its last lease goes, and `markBusy` on acquire; `onIdle` fires after `idleShutdownMs` of idleness.
 */
export class IdleTracker {
  readonly #onIdle: (instanceId: string) => void;
  readonly #clock: Clock;
  readonly #setTimer: SetTimer;
  readonly #clearTimer: ClearTimer;
  readonly #logger: Logger;
  readonly #idle = new Map<string, IdleEntry>();
  #closed = false;

  constructor(options: IdleTrackerOptions) {
    this.#onIdle = options.onIdle;
    this.#clock = options.clock ?? systemClock;
    this.#setTimer = options.setTimer ?? unrefSetTimer;
    this.#clearTimer = options.clearTimer ?? systemClearTimer;
    this.#logger = options.logger ?? pino({ level: 'silent' });
  }

  /**
   * Marks the instance idle and arms its timer for `idleShutdownMs` ms. Marking an already idle instance
   * keeps its idle start, so repeated calls never postpone the shutdown. No-op after `close()`.
   * @param idleShutdownMs ms of idleness before `onIdle`; `null` or `Infinity` = never (still tracked as idle).
   * @throws {ContractValidationError} `invalid_argument` when `idleShutdownMs` is negative or not a number.
   */
  markIdle(instanceId: string, idleShutdownMs: number | null): void {
    if (idleShutdownMs !== null && !(typeof idleShutdownMs === 'number' && idleShutdownMs >= 0)) {
      const kind = typeof idleShutdownMs;
      throw new ContractValidationError(
        'invalid_argument',
        'IdleTracker.markIdle',
        [
          {
            path: 'idleShutdownMs',
            message: `must be a number of ms >= 0 or null (received ${kind} ${String(idleShutdownMs)})`,
            received: idleShutdownMs,
          },
        ],
        { instanceId },
      );
    }
    if (this.#closed) return;
    const now = this.#clock.now();
    const existing = this.#idle.get(instanceId);
    if (existing?.timer !== undefined) this.#clearTimer(existing.timer);
    const since = existing?.since ?? now;
    const entry: IdleEntry = {
      since,
      deadline: idleShutdownMs === null ? Number.POSITIVE_INFINITY : since + idleShutdownMs,
      timer: undefined,
    };
    this.#idle.set(instanceId, entry);
    this.#arm(instanceId, entry, now);
  }

  /** Cancels the instance's idle timer (a lease arrived). No-op when it was not idle. */
  markBusy(instanceId: string): void {
    this.forget(instanceId);
  }

  /** Drops the instance (it stopped); cancels its timer. No-op when unknown. */
  forget(instanceId: string): void {
    const entry = this.#idle.get(instanceId);
    if (!entry) return;
    if (entry.timer !== undefined) this.#clearTimer(entry.timer);
    this.#idle.delete(instanceId);
  }

  /** Whether the instance is currently marked idle. */
  isIdle(instanceId: string): boolean {
    return this.#idle.has(instanceId);
  }

  /** Clock ms at which the instance will idle out; `Infinity` = never; `undefined` when not idle. */
  idleDeadline(instanceId: string): number | undefined {
    return this.#idle.get(instanceId)?.deadline;
  }

  /** Number of instances marked idle. */
  get size(): number {
    return this.#idle.size;
  }

  /** Cancels every timer and forgets every instance; later `markIdle` calls do nothing. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#idle.values()) if (entry.timer !== undefined) this.#clearTimer(entry.timer);
    this.#idle.clear();
  }

  // Re-checks the clock when the timer fires: long delays are clamped and injected clocks may lag the timer.
  #arm(instanceId: string, entry: IdleEntry, now: number): void {
    if (entry.deadline === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(Math.max(0, Math.ceil(entry.deadline - now)), MAX_TIMER_DELAY_MS);
    entry.timer = this.#setTimer(() => {
      entry.timer = undefined;
      if (this.#idle.get(instanceId) !== entry) return;
      const at = this.#clock.now();
      if (at < entry.deadline) {
        this.#arm(instanceId, entry, at);
        return;
      }
      this.#idle.delete(instanceId);
      try {
        this.#onIdle(instanceId);
      } catch (error) {
        this.#logger.error({ err: error, instanceId }, 'idle handler threw');
      }
    }, delay);
  }
}
