import pino from 'pino';
import { healthStatusSchema } from '../../contracts/runtime-snapshot.js';
import type { ConformanceRun } from './conformance-run.js';
import { ConformanceViolation } from './conformance-violation.js';
import { requireReady } from './require-ready.js';

/**
 * Rule `health`: `checkHealth` on the ready instance resolves (it must not throw) to a valid status
 * (`healthy` | `degraded` | `unavailable`) with an optional string detail, within the plan's probe timeout.
 * @returns the status.
 * @throws ConformanceViolation showing the result or the error.
 */
export async function checkHealthStatus(run: ConformanceRun): Promise<string> {
  const { target } = requireReady(run, 'health');
  const context = {
    signal: AbortSignal.timeout(target.plan.probeTimeoutMs),
    logger: pino({ level: 'silent' }),
    reportProgress: () => {},
  };
  let result: unknown;
  try {
    result = await run.backend.checkHealth(target, context);
  } catch (error) {
    throw new ConformanceViolation(
      'health',
      run.backend.id,
      `checkHealth threw (${(error as Error).message}); it must resolve to a status, e.g. "unavailable"`,
      undefined,
      error,
    );
  }
  const status = (result as { status?: unknown } | undefined)?.status;
  const detail = (result as { detail?: unknown } | undefined)?.detail;
  if (!healthStatusSchema.safeParse(status).success || (detail !== undefined && typeof detail !== 'string')) {
    throw new ConformanceViolation(
      'health',
      run.backend.id,
      'checkHealth must resolve to { status: "healthy" | "degraded" | "unavailable", detail?: string }',
      result,
    );
  }
  return status as string;
}
