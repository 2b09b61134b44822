import { KernelError } from '../../errors/kernel-error.js';
import type { ConformanceRun } from './conformance-run.js';
import { ConformanceViolation } from './conformance-violation.js';

/**
 * Rule `readiness`: through a real kernel, the spec becomes `ready` within the plan's `readyTimeoutMs`.
 * A start that fails must fail with a typed KernelError (a spec given to the kit should start, so that is
 * reported too, with its code); a start that neither succeeds nor fails in time means a probe hangs.
 * @throws ConformanceViolation with the error code, message and elapsed time.
 */
export function checkReadiness(run: ConformanceRun): void {
  const { start } = run;
  const elapsedMs = Math.round(start.elapsedMs);
  if (start.ok) {
    if (run.snapshot?.state !== 'ready') {
      throw new ConformanceViolation(
        'readiness',
        run.backend.id,
        'ensureInstance resolved but the instance is not ready',
        {
          state: run.snapshot?.state,
        },
      );
    }
    return;
  }
  const error = start.error;
  if (start.guardExpired) {
    throw new ConformanceViolation(
      'readiness',
      run.backend.id,
      `the start neither became ready nor failed with a typed error within readyTimeoutMs (${run.readyTimeoutMs} ms) plus grace: a readiness probe probably ignores its AbortSignal`,
      { elapsedMs },
    );
  }
  if (!KernelError.isInstance(error)) {
    throw new ConformanceViolation(
      'readiness',
      run.backend.id,
      `the start failed with an untyped error (${String((error as Error)?.message ?? error)}); backends must throw KernelError subclasses`,
      { name: (error as Error)?.name, elapsedMs },
      error,
    );
  }
  throw new ConformanceViolation(
    'readiness',
    run.backend.id,
    `the spec given to the kit did not start: ${error.code}: ${error.message}`,
    { code: error.code, elapsedMs, lastLogLines: error.lastLogLines?.slice(-10) },
    error,
  );
}
