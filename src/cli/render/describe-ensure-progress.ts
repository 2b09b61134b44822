import type { KernelEvent } from '../../telemetry/kernel-events.js';
import { describeMemoryWait } from './describe-memory-wait.js';
import { formatDuration } from './format-duration.js';

/**
 * One progress line for `shic ensure` from a kernel event about the deployment it waits for: waiting for memory
 * (and who holds it), admitted, loading, ready. `nameOf` gives an instance's deployment (else its id).
 * @returns undefined for events not worth a line.
 */
export function describeEnsureProgress(
  event: KernelEvent,
  nameOf: (instanceId: string) => string,
): string | undefined {
  switch (event.type) {
    case 'residency.queued':
      return `waiting for memory: ${describeMemoryWait(event, nameOf)}`;
    case 'residency.admitted':
      if (event.waitedMs === 0 && event.evicted.length === 0) return undefined;
      return `memory admitted after ${formatDuration(event.waitedMs)}${
        event.evicted.length ? ` (evicted ${event.evicted.map(nameOf).join(', ')})` : ''
      }`;
    case 'instance.progress':
      return `${event.phase}: ${event.message}${event.percent === undefined ? '' : ` (${event.percent}%)`}`;
    case 'instance.ready':
      return `ready in ${formatDuration(event.readyMs)}`;
    default:
      return undefined;
  }
}
