// A test backend that drives the stand-in HTTP server (test/fixtures/stand-in-server.mjs): spawned as a
// real child process (`process.execPath stand-in-server.mjs --port N …`), or attached to a stand-in the
// test started itself. It speaks real HTTP through httpProbe.
import { fileURLToPath } from 'node:url';
import type { Backend, HealthResult, ReadinessResult } from '../../src/backend/backend.js';
import type { BackendManifestInput } from '../../src/contracts/backend-manifest.js';
import type { InstanceSpec } from '../../src/contracts/instance-spec.js';
import type { StartupPlanInput } from '../../src/contracts/startup-plan.js';
import { httpProbe } from '../../src/http/http-probe.js';

/** Path of the stand-in server script. */
export const STAND_IN_SERVER = fileURLToPath(new URL('../fixtures/stand-in-server.mjs', import.meta.url));

/**
 * Boot spec the stand-in backend understands (`spec.bootSpec` for spawned, `spec.backendOptions` for attached):
 * - `name`: part of the instance key (different names → different instances). @default 'default'
 * - `flags`: stand-in flags, e.g. `['--ready-after-ms', '300']`.
 * - `addressInUseAttempts`: the first N plans for this name add `--address-in-use` (a lost bind race).
 * - `plan`: fields merged over the plan (intervals, restart policy, or deliberately bad fields).
 * - `url` (attached only): root URL of a running stand-in.
 */
export interface StandInBootSpec {
  name?: string;
  flags?: string[];
  addressInUseAttempts?: number;
  plan?: Partial<StartupPlanInput>;
  url?: string;
}

/** Counters the tests read. */
export interface StandInStats {
  plans: number;
  probes: number;
  healthChecks: number;
}

/** Fast intervals so tests run quickly on a slow machine; generous deadlines so they do not flake. */
const TEST_PLAN_DEFAULTS = {
  readyTimeoutMs: 30_000,
  stallTimeoutMs: 30_000,
  readinessIntervalMs: 10,
  readinessMaxIntervalMs: 100,
  probeTimeoutMs: 2_000,
  healthIntervalMs: 50,
  functionalHealthIntervalMs: 1_000,
  healthFailureThreshold: 2,
  stopTimeoutMs: 3_000,
  idleShutdownMs: null,
} satisfies Partial<StartupPlanInput>;

async function probeHealth(
  root: string,
  signal: AbortSignal,
): Promise<{ status: number; body: string } | Error> {
  try {
    const response = await httpProbe(`${root}/health`, { signal, timeoutMs: 2_000 });
    return { status: response.status, body: response.body };
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function bootSpecOf(spec: InstanceSpec, attached: boolean): StandInBootSpec {
  return ((attached ? spec.backendOptions : spec.bootSpec) ?? {}) as StandInBootSpec;
}

/**
 * Creates a stand-in backend.
 * @param options.kind `spawned` (default) runs the stand-in; `attached` attaches to `backendOptions.url`.
 * @param options.id backend id. @default 'stand-in' / 'stand-in-attached'
 * @param options.quiet no `onProcessEvent`: the kernel learns nothing from the output (readiness by probe
 *   only, a lost bind race only from the exit and its last lines).
 */
export function createStandInBackend(
  options: { kind?: 'spawned' | 'attached'; id?: string; quiet?: boolean } = {},
): Backend & { stats: StandInStats } {
  const attached = options.kind === 'attached';
  const id = options.id ?? (attached ? 'stand-in-attached' : 'stand-in');
  const stats: StandInStats = { plans: 0, probes: 0, healthChecks: 0 };
  const plansByName = new Map<string, number>();
  const manifest: BackendManifestInput = {
    backend: id,
    runtimeKind: 'service',
    managementModes: [attached ? 'externally_managed' : 'kernel_managed'],
    startupKind: attached ? 'attach_existing_service' : 'spawned',
    protocols: ['openai_chat_completions'],
    capabilities: { streaming: true },
    supportedSurfaces: attached ? [] : ['local_subprocess'],
  };
  const rootOf = (baseUrl: string) => baseUrl.replace(/\/v1\/?$/, '');

  return {
    specificationVersion: 'v1',
    id,
    manifest,
    stats,
    instanceKey(spec) {
      const boot = bootSpecOf(spec, attached);
      const name = boot.name ?? 'default';
      return attached ? `${id}:${name}:${new URL(boot.url ?? 'http://127.0.0.1:1').origin}` : `${id}:${name}`;
    },
    async startupPlan(spec, context) {
      stats.plans += 1;
      const boot = bootSpecOf(spec, attached);
      const name = boot.name ?? 'default';
      const attempt = (plansByName.get(name) ?? 0) + 1;
      plansByName.set(name, attempt);
      const endpoint = { protocol: 'openai_chat_completions', modelIdentity: 'stand-in-model' };
      if (attached) {
        const url = new URL(boot.url ?? 'http://127.0.0.1:1');
        return {
          instanceKey: `${id}:${name}:${url.origin}`,
          startupKind: 'attach_existing_service',
          managementMode: 'externally_managed',
          port: Number(url.port),
          ...TEST_PLAN_DEFAULTS,
          endpointTemplate: { ...endpoint, baseUrl: `${url.origin}/v1`, sourceRuntimeRef: url.origin },
          ...boot.plan,
        } satisfies StartupPlanInput;
      }
      const port = await context.allocatePort();
      const bindFails = attempt <= (boot.addressInUseAttempts ?? 0);
      return {
        instanceKey: `${id}:${name}`,
        startupKind: 'spawned',
        managementMode: 'kernel_managed',
        transport: {
          command: process.execPath,
          args: [
            STAND_IN_SERVER,
            '--port',
            String(port),
            ...(boot.flags ?? []),
            ...(bindFails ? ['--address-in-use'] : []),
          ],
        },
        port,
        ...TEST_PLAN_DEFAULTS,
        restartPolicy: { backoffBaseMs: 20, backoffMaxMs: 200, maxRestarts: 3, windowMs: 60_000 },
        endpointTemplate: { ...endpoint, baseUrl: `http://127.0.0.1:${port}/v1` },
        ...boot.plan,
      } satisfies StartupPlanInput;
    },
    async probeReadiness(target, context): Promise<ReadinessResult> {
      stats.probes += 1;
      const seen = await probeHealth(rootOf(target.baseUrl), context.signal);
      if (seen instanceof Error) return { status: 'pending', detail: `not listening (${seen.message})` };
      if (seen.status === 200) return { status: 'ready', detail: 'health 200' };
      return { status: 'pending', detail: `health ${seen.status}` };
    },
    async checkHealth(target, context): Promise<HealthResult> {
      stats.healthChecks += 1;
      const seen = await probeHealth(rootOf(target.baseUrl), context.signal);
      if (seen instanceof Error) throw seen;
      if (seen.status === 200) return { status: 'healthy', detail: 'health 200' };
      if (seen.status === 503) return { status: 'degraded', detail: 'health 503 (loading)' };
      return { status: 'unavailable', detail: `health ${seen.status}` };
    },
    onProcessEvent: options.quiet
      ? undefined
      : (event) => {
          if (event.type === 'exit') return undefined;
          if (/couldn't bind/i.test(event.line)) return { addressInUse: true };
          if (event.line === 'ready') return { ready: true };
          const progress = /^loading model (\d+)%/.exec(event.line);
          if (progress)
            return { progress: { phase: 'loading', message: event.line, percent: Number(progress[1]) } };
          return undefined;
        },
  };
}
