// The shared target builders, with a plan context that fails the test if the attached Ollama backend asks
// for a port (an attached backend never allocates one).
import type { Backend, InstanceSpecInput, InstanceTarget } from 'self-hosted-inference-core';
import { planContext, targetFor as plannedTarget } from '../../support/backend-test-target.js';

export { probeContext } from '../../support/backend-test-target.js';

/** Plans a spec the way the kernel does (parse, plan, validate) and returns the target probes see. */
export function targetFor(
  backend: Backend,
  specInput: Omit<InstanceSpecInput, 'backend'>,
  instanceId = 'ollama-test-1',
): Promise<InstanceTarget> {
  const context = planContext(async () => {
    throw new Error('an attached backend must not allocate ports');
  });
  return plannedTarget(backend, specInput, { instanceId, context });
}
