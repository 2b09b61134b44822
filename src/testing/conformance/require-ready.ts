import type { InstanceTarget } from '../../backend/backend.js';
import type { EndpointDescriptor } from '../../contracts/endpoint-descriptor.js';
import type { RuntimeSnapshot } from '../../contracts/runtime-snapshot.js';
import type { ConformanceRun } from './conformance-run.js';
import { type ConformanceRule, ConformanceViolation } from './conformance-violation.js';

/** What the checks after readiness need from a run that became ready. */
export interface ReadyRun {
  snapshot: RuntimeSnapshot;
  descriptor: EndpointDescriptor;
  /** The target the kernel handed the backend's probes. */
  target: InstanceTarget;
}

/**
 * The ready parts of a run; a check that needs them fails, pointing at the readiness check for the cause.
 * @throws ConformanceViolation under `rule` when the instance never became ready.
 */
export function requireReady(run: ConformanceRun, rule: ConformanceRule): ReadyRun {
  if (!run.start.ok || !run.snapshot || !run.descriptor || !run.target) {
    throw new ConformanceViolation(
      rule,
      run.backend.id,
      'cannot be checked: the instance never became ready (see the "readiness" check)',
    );
  }
  return { snapshot: run.snapshot, descriptor: run.descriptor, target: run.target };
}
