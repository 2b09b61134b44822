// A small spawned/attached backend on the generic stand-in server, with one switch per way to break a
// conformance rule. Written against the public API, like a third-party backend.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  type Backend,
  type BackendManifestInput,
  httpProbe,
  type InstanceTarget,
  type StartupPlanInput,
} from 'self-hosted-inference-core';

export const STAND_IN_SERVER = fileURLToPath(new URL('../../fixtures/stand-in-server.mjs', import.meta.url));
export const ESCAPING_SERVER = fileURLToPath(new URL('./escaping-server.mjs', import.meta.url));

/** The ways to break a rule; none set = a conforming backend. */
export interface Breakage {
  /** The manifest declares this startup kind (and its paired mode) while plans spawn. */
  manifestStartupKind?: 'attach_existing_service';
  /** Run the escaping server: a grandchild in a new session survives every stop. */
  escapeMarker?: string;
  /** Put this secret into the instance key (plan and `instanceKey`). */
  secretInKey?: string;
  /** Log this secret from the readiness probe. */
  secretInLog?: string;
  /** `instanceKey(spec)` returns another key than the plan. */
  keyMismatch?: boolean;
  /** The plan's key includes the allocated port. */
  keyWithPort?: boolean;
  /** Publish the server root instead of `<root>/v1`. */
  baseUrlWithoutV1?: boolean;
  /** `checkHealth` resolves to a status outside the vocabulary. */
  invalidHealth?: boolean;
  /** Readiness never succeeds (the plan's readyTimeoutMs is short). */
  neverReady?: boolean;
  /** Attached only: `shutdown` tells the daemon to exit. */
  killDaemonOnStop?: boolean;
}

const root = (target: InstanceTarget) => String(target.plan.backendState.root);

/** A stand-in backend: spawned (runs the stand-in) or attached (to `backendOptions.url`), broken as asked. */
export function conformanceTestBackend(
  options: { id?: string; kind?: 'spawned' | 'attached' } & Breakage = {},
): Backend {
  const attached = options.kind === 'attached';
  const id = options.id ?? (attached ? 'conformance-attached' : 'conformance-spawned');
  const declaredKind = options.manifestStartupKind ?? (attached ? 'attach_existing_service' : 'spawned');
  const manifest: BackendManifestInput = {
    backend: id,
    runtimeKind: 'service',
    managementModes: [declaredKind === 'spawned' ? 'kernel_managed' : 'externally_managed'],
    startupKind: declaredKind,
    protocols: ['openai_chat_completions'],
    capabilities: { streaming: true },
    supportedSurfaces: ['local_subprocess'],
  };
  const baseKey = `${id}:${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
  const key = options.secretInKey ? `${baseKey}:${options.secretInKey}` : baseKey;
  return {
    specificationVersion: 'v1',
    id,
    manifest,
    instanceKey: (spec) => {
      const own = attached ? `${key}:${String(spec.backendOptions.url)}` : key;
      return options.keyMismatch ? `${own}:fast` : own;
    },
    async startupPlan(spec, context): Promise<StartupPlanInput> {
      const common = {
        readyTimeoutMs: options.neverReady ? 1_500 : 30_000,
        stallTimeoutMs: 30_000,
        readinessIntervalMs: 20,
        readinessMaxIntervalMs: 200,
        stopTimeoutMs: 3_000,
        idleShutdownMs: null,
      };
      if (attached) {
        const url = String(spec.backendOptions.url);
        return {
          ...common,
          instanceKey: `${key}:${url}`,
          startupKind: 'attach_existing_service',
          managementMode: 'externally_managed',
          endpointTemplate: { protocol: 'openai_chat_completions', baseUrl: `${url}/v1` },
          backendState: { root: url },
        };
      }
      const port = await context.allocatePort();
      const url = `http://127.0.0.1:${port}`;
      const script = options.escapeMarker ? ESCAPING_SERVER : STAND_IN_SERVER;
      const marker = options.escapeMarker ? ['--escapee-marker', options.escapeMarker] : [];
      return {
        ...common,
        instanceKey: options.keyWithPort ? `${key}:${port}` : key,
        startupKind: 'spawned',
        managementMode: 'kernel_managed',
        transport: { command: process.execPath, args: [script, '--port', String(port), ...marker] },
        port,
        endpointTemplate: {
          protocol: 'openai_chat_completions',
          baseUrl: options.baseUrlWithoutV1 ? url : `${url}/v1`,
        },
        backendState: { root: url },
      };
    },
    async probeReadiness(target, context) {
      if (options.secretInLog) context.logger.debug({ apiKey: options.secretInLog }, 'probing with key');
      if (options.neverReady) return { status: 'pending', detail: 'never' };
      try {
        const response = await httpProbe(`${root(target)}/health`, { signal: context.signal });
        return response.status === 200
          ? { status: 'ready' }
          : { status: 'pending', detail: `HTTP ${response.status}` };
      } catch (error) {
        return { status: 'pending', detail: (error as Error).message };
      }
    },
    async checkHealth(target, context) {
      if (options.invalidHealth) return { status: 'ok' } as never;
      const response = await httpProbe(`${root(target)}/health`, { signal: context.signal }).catch(
        () => undefined,
      );
      return response?.status === 200 ? { status: 'healthy' } : { status: 'unavailable' };
    },
    async shutdown(target) {
      if (!attached || !options.killDaemonOnStop) return;
      await httpProbe(`${root(target)}/__control`, { json: { exit: 0 } });
    },
  };
}
