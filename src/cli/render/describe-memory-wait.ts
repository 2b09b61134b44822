import type { KernelEventMap } from '../../telemetry/kernel-events.js';

/** Bytes over every device, in whole MiB, e.g. `18 MiB`. */
export function mibOf(bytes: Record<string, number>): string {
  return `${Math.round(Object.values(bytes).reduce((a, b) => a + b, 0) / (1024 * 1024))} MiB`;
}

/** A start waiting for memory, e.g. `needs 18 MiB, queue position 1; held by chat-a (leased)`. */
export function describeMemoryWait(
  event: KernelEventMap['residency.queued'],
  nameOf: (instanceId: string) => string,
): string {
  const holders = event.blocking.map((h) => `${nameOf(h.instanceId)} (${h.reason})`).join(', ');
  return `needs ${mibOf(event.bytes)}, queue position ${event.position}; held by ${holders || 'nothing evictable'}`;
}
