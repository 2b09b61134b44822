import getPort from 'get-port';
import pino, { type Logger } from 'pino';
import type { Backend, PlanContext } from '../../backend/backend.js';
import {
  type InstanceSpec,
  type InstanceSpecInput,
  parseInstanceSpec,
} from '../../contracts/instance-spec.js';
import type { StartupPlanInput } from '../../contracts/startup-plan.js';
import { type ConformanceRule, ConformanceViolation } from './conformance-violation.js';

/** A real plan context: free ports from get-port, a signal that never aborts unless given. */
export function conformancePlanContext(logger: Logger = pino({ level: 'silent' })): PlanContext {
  return {
    allocatePort: (host?: string) => getPort(host === undefined ? {} : { host }),
    signal: new AbortController().signal,
    logger,
  };
}

/** Parses a spec the way the kernel does; a spec the kit was given that does not parse is a setup mistake. */
export function conformanceSpec(
  rule: ConformanceRule,
  backend: Backend,
  spec: InstanceSpecInput,
): InstanceSpec {
  try {
    return parseInstanceSpec(spec);
  } catch (error) {
    throw new ConformanceViolation(
      rule,
      backend.id,
      `the spec given to the kit does not parse as an InstanceSpec (${(error as Error).message})`,
      spec,
      error,
    );
  }
}

/** Asks the backend for its plan; a throw is reported under `rule` with the error it raised. */
export async function planForSpec(
  rule: ConformanceRule,
  backend: Backend,
  spec: InstanceSpec,
  context: PlanContext = conformancePlanContext(),
): Promise<StartupPlanInput> {
  try {
    return await backend.startupPlan(spec, context);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConformanceViolation(
      rule,
      backend.id,
      `startupPlan threw for a spec that should start (${(error as Error).message})`,
      { code, spec },
      error,
    );
  }
}
