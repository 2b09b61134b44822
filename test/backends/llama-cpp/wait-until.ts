// Polls a condition until it returns a truthy value; no fixed sleeps, a generous deadline for a slow machine.
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves with the first truthy value of `check`, polling every `intervalMs`; rejects after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 25, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}
