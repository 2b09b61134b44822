// Builds what the kernel would hand a backend: a validated plan, an InstanceTarget and a ProbeContext.
import { pino } from 'pino';
import {
  type Backend,
  type InstanceSpecInput,
  type InstanceTarget,
  type ProbeContext,
  type ProgressReport,
  parseBackendManifest,
  parseInstanceSpec,
  validateStartupPlan,
} from 'self-hosted-inference-core';

const silent = pino({ level: 'silent' });

/** Plans a spec the way the kernel does (parse, plan, validate) and returns the target probes see. */
export async function targetFor(
  backend: Backend,
  specInput: Omit<InstanceSpecInput, 'backend'>,
  instanceId = 'ollama-test-1',
): Promise<InstanceTarget> {
  const spec = parseInstanceSpec({ backend: backend.id, ...specInput });
  const planInput = await backend.startupPlan(spec, {
    allocatePort: async () => {
      throw new Error('an attached backend must not allocate ports');
    },
    signal: new AbortController().signal,
    logger: silent,
  });
  const plan = validateStartupPlan(parseBackendManifest(backend.manifest), spec, planInput);
  return { instanceId, plan, baseUrl: plan.endpointTemplate.baseUrl };
}

/** A probe context with a per-probe timeout that records progress reports. */
export function probeContext(reports: ProgressReport[] = [], timeoutMs = 5_000): ProbeContext {
  return { signal: AbortSignal.timeout(timeoutMs), logger: silent, reportProgress: (p) => reports.push(p) };
}
