// Builds what the kernel would hand the llama-cpp backend: a validated plan, an InstanceTarget and a ProbeContext.
import getPort from 'get-port';
import { pino } from 'pino';
import {
  type Backend,
  type InstanceSpecInput,
  type InstanceTarget,
  type PlanContext,
  type ProbeContext,
  type ProgressReport,
  parseBackendManifest,
  parseInstanceSpec,
  validateStartupPlan,
} from 'self-hosted-inference-core';

const silent = pino({ level: 'silent' });

/** A plan context whose port allocator is get-port, as the kernel's default. */
export function planContext(): PlanContext {
  return {
    allocatePort: (host?: string) => getPort({ host: host ?? '127.0.0.1' }),
    signal: new AbortController().signal,
    logger: silent,
  };
}

/** Plans a spec the way the kernel does (parse, plan, validate) and returns the target probes see. */
export async function targetFor(
  backend: Backend,
  specInput: Omit<InstanceSpecInput, 'backend'>,
  instanceId = 'llama-test-1',
): Promise<InstanceTarget> {
  const spec = parseInstanceSpec({ backend: backend.id, ...specInput });
  const planInput = await backend.startupPlan(spec, planContext());
  const plan = validateStartupPlan(parseBackendManifest(backend.manifest), spec, planInput);
  return { instanceId, plan, baseUrl: plan.endpointTemplate.baseUrl };
}

/** A probe context with a per-probe timeout that records progress reports. */
export function probeContext(reports: ProgressReport[] = [], timeoutMs = 5_000): ProbeContext {
  return { signal: AbortSignal.timeout(timeoutMs), logger: silent, reportProgress: (p) => reports.push(p) };
}
