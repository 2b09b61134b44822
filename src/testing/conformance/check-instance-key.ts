import type { Backend } from '../../backend/backend.js';
import type { InstanceSpecInput } from '../../contracts/instance-spec.js';
import { ConformanceViolation } from './conformance-violation.js';
import { conformanceSpec, planForSpec } from './plan-for-spec.js';

/**
 * Rule `instance-key`: planning the same spec twice (each time on a fresh port) yields the same
 * `instanceKey`, and `backend.instanceKey(spec)`, when present, returns exactly that key without throwing.
 * The kernel finds serving instances by this key, so a mismatch starts duplicates.
 * @returns the plan's instance key.
 * @throws ConformanceViolation showing both keys.
 */
export async function checkInstanceKey(backend: Backend, specInput: InstanceSpecInput): Promise<string> {
  const rule = 'instance-key';
  const spec = conformanceSpec(rule, backend, specInput);
  const first = (await planForSpec(rule, backend, spec)).instanceKey;
  const second = (await planForSpec(rule, backend, spec)).instanceKey;
  if (first !== second) {
    throw new ConformanceViolation(
      rule,
      backend.id,
      'two plans for the same spec carry different instance keys (a key must not depend on the allocated port or other per-attempt state)',
      { first, second },
    );
  }
  if (backend.instanceKey === undefined) return first;
  let fast: string;
  try {
    fast = backend.instanceKey(spec);
  } catch (error) {
    throw new ConformanceViolation(
      rule,
      backend.id,
      `instanceKey(spec) threw for a spec that startupPlan accepts (${(error as Error).message})`,
      { planKey: first },
      error,
    );
  }
  if (fast !== first) {
    throw new ConformanceViolation(
      rule,
      backend.id,
      "instanceKey(spec) must equal the plan's instanceKey, or the kernel starts a second instance for a spec it already serves",
      { instanceKey: fast, planInstanceKey: first },
    );
  }
  return first;
}
