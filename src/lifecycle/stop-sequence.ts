import type { Logger } from 'pino';
import type { Backend, InstanceTarget, ProbeContext } from '../backend/backend.js';
import type { ManagedProcess } from '../process/spawn-process.js';

/** What {@link runStopSequence} needs from the instance being stopped. */
export interface StopSequenceStep {
  backend: Backend;
  target: InstanceTarget;
  /** The running process of a spawned instance; `null` for an attached one (never signalled). */
  proc: ManagedProcess | null;
  stopTimeoutMs: number;
  probeContext(signal: AbortSignal): ProbeContext;
  logger: Logger;
}

/**
 * The stop of an instance once its state is `stopping`: the backend's `shutdown` hook (bounded by
 * `stopTimeoutMs` even when it ignores its signal; a failure is logged, never thrown), then the process group:
 * SIGTERM, `stopTimeoutMs`, SIGKILL, and the exit awaited. Always finishes.
 */
export async function runStopSequence(step: StopSequenceStep): Promise<void> {
  const { backend, target, proc, stopTimeoutMs, logger } = step;
  if (backend.shutdown) {
    const deadline = AbortSignal.timeout(stopTimeoutMs);
    const timedOut = new Promise<void>((resolve) =>
      deadline.addEventListener('abort', () => resolve(), { once: true }),
    );
    try {
      await Promise.race([backend.shutdown(target, step.probeContext(deadline)), timedOut]);
    } catch (error) {
      logger.warn({ err: error, instanceId: target.instanceId }, 'backend shutdown hook failed');
    }
  }
  if (proc) {
    await proc.stop({ timeoutMs: stopTimeoutMs });
    await proc.exited;
  }
}
