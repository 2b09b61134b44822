/** A source of "now" in epoch ms; injectable so tests drive time. */
export interface Clock {
  now(): number;
}

/** Opaque handle returned by a `SetTimer`. */
export type TimerHandle = unknown;

/** Schedules `callback` after `delayMs` ms; must not keep the process alive if it can help it. */
export type SetTimer = (callback: () => void, delayMs: number) => TimerHandle;

/** Cancels a timer made by the matching `SetTimer`; must accept a handle that already fired. */
export type ClearTimer = (handle: TimerHandle) => void;

/** Largest delay `setTimeout` honours; longer delays are clamped and the timer re-armed when it fires. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

// Globals are looked up on each call (not captured at import) so `vi.useFakeTimers()` applies after import.
/** `Date.now()`. */
export const systemClock: Clock = { now: () => Date.now() };

/** `setTimeout`, unref'd so a pending lease or idle timer never keeps the process alive. */
export const unrefSetTimer: SetTimer = (callback, delayMs) => {
  const handle = setTimeout(callback, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
  (handle as { unref?: () => unknown }).unref?.();
  return handle;
};

/** `clearTimeout`. */
export const systemClearTimer: ClearTimer = (handle) => {
  clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
};
