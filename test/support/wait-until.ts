// Polls a condition until it returns a truthy value: tests wait on conditions, never on fixed sleeps, and
// the deadline is generous because the suite runs on a slow shared 2-core machine.
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Resolves with the first truthy value of `condition`, polling every `intervalMs`.
 * @param options.timeoutMs How long to keep polling, in milliseconds. @default 30_000
 * @param options.intervalMs Pause between polls, in milliseconds. @default 20
 * @param options.message What is awaited, for the timeout error. @default 'condition'
 * @throws Error `timed out after <timeoutMs> ms waiting for <message>` once the deadline passes.
 */
export async function waitUntil<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 20, message = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await delay(intervalMs);
  }
}
