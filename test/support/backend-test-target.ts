// Builds what the kernel would hand a backend's hooks: a plan context, a validated plan and its InstanceTarget,
// and a ProbeContext.
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

/** A plan context whose port allocator is get-port (the kernel's default) unless `allocatePort` is given. */
export function planContext(
  allocatePort: PlanContext['allocatePort'] = (host) => getPort({ host: host ?? '127.0.0.1' }),
): PlanContext {
  return { allocatePort, signal: new AbortController().signal, logger: silent };
}

/**
 * Plans a spec the way the kernel does (parse, plan, validate) and returns the target probes see.
 * @param options.instanceId @default `${backend.id}-test-1`
 * @param options.context The plan context handed to `startupPlan`. @default planContext()
 */
export async function targetFor(
  backend: Backend,
  specInput: Omit<InstanceSpecInput, 'backend'>,
  {
    instanceId = `${backend.id}-test-1`,
    context = planContext(),
  }: { instanceId?: string; context?: PlanContext } = {},
): Promise<InstanceTarget> {
  const spec = parseInstanceSpec({ backend: backend.id, ...specInput });
  const planInput = await backend.startupPlan(spec, context);
  const plan = validateStartupPlan(parseBackendManifest(backend.manifest), spec, planInput);
  return { instanceId, plan, baseUrl: plan.endpointTemplate.baseUrl };
}

/** A probe context with a per-probe timeout (in ms) that records progress reports. */
export function probeContext(reports: ProgressReport[] = [], timeoutMs = 5_000): ProbeContext {
  return { signal: AbortSignal.timeout(timeoutMs), logger: silent, reportProgress: (p) => reports.push(p) };
}
