import type { Backend, InstanceSpec, StartupPlanInput } from 'self-hosted-inference-core';
import { checkOllamaHealth } from './check-ollama-health.js';
import { setOllamaKeepAlive } from './ollama-api.js';
import { type OllamaAttachOptions, parseOllamaAttachSpec } from './ollama-attach-spec.js';
import { ollamaInstanceKey } from './ollama-instance-key.js';
import { OLLAMA_MANIFEST } from './ollama-manifest.js';
import { OllamaPullTracker } from './ollama-pull-tracker.js';
import type { OllamaBackendState } from './ollama-target.js';
import { ollamaTarget } from './ollama-target.js';
import { probeOllamaReadiness } from './probe-ollama-readiness.js';

/** Options of `createOllamaBackend`: default attach options, overridden per spec by `backendOptions`. */
export interface CreateOllamaBackendOptions extends OllamaAttachOptions {
  /** Environment read for `OLLAMA_HOST`. @default process.env */
  env?: Record<string, string | undefined>;
}

/** Timeout of the keep-alive warm-up and the unload request, in ms (loading a model can take a while). */
const WARM_UP_TIMEOUT_MS = 120_000;

/**
 * The Ollama backend (`ollama`): attaches to an Ollama daemon that someone else runs.
 *
 * - Root URL from the `rootUrl` option, else `OLLAMA_HOST`, else `http://127.0.0.1:11434`; model from the
 *   request's `modelIdentity`, else the `model` option (required).
 * - Ready when `GET /api/version` answers and `POST /api/show` finds the model. A missing model fails at the
 *   ready timeout with `model_not_found` naming `ollama pull <model>`; with `pull: true` the daemon pulls it
 *   first (`instance.progress` events, phase `pulling`).
 * - Health: loaded in `GET /api/ps` → healthy; installed but not loaded → degraded; unreachable → unavailable.
 * - Leases: with `keepAlive` set, each lease sends a warm-up `POST /api/generate {model, keep_alive}` (no
 *   prompt), which loads the model and keeps it resident for that long.
 * - Endpoint: `<root>/v1` (OpenAI chat completions); the native root is `sourceRuntimeRef`; the daemon's
 *   version is in the readiness and health metadata (`ollamaVersion`).
 * - Stop and close send nothing to the daemon, unless `unloadOnStop: true` (then `keep_alive: 0` unloads
 *   the model; the daemon keeps running).
 * - `apiKey` becomes `authorization: Bearer …`, held as a Secret: never logged, never in the instance key.
 */
export function createOllamaBackend(options: CreateOllamaBackendOptions = {}): Backend {
  const { env = process.env, ...defaults } = options;
  const pulls = new OllamaPullTracker();
  // Per instance: when its daemon first refused the connection in the current run of refusals.
  const refusedSince = new Map<string, number>();

  return {
    specificationVersion: 'v1',
    id: 'ollama',
    manifest: OLLAMA_MANIFEST,

    instanceKey(spec: InstanceSpec): string {
      return ollamaInstanceKey(parseOllamaAttachSpec(spec, defaults, env));
    },

    startupPlan(spec: InstanceSpec): StartupPlanInput {
      const attach = parseOllamaAttachSpec(spec, defaults, env);
      const backendState: OllamaBackendState = {
        rootUrl: attach.rootUrl,
        model: attach.model,
        pull: attach.pull,
        ...(attach.keepAlive === undefined ? {} : { keepAlive: attach.keepAlive }),
        unloadOnStop: attach.unloadOnStop,
        connectTimeoutMs: attach.connectTimeoutMs,
      };
      return {
        instanceKey: ollamaInstanceKey(attach),
        startupKind: 'attach_existing_service',
        managementMode: 'externally_managed',
        readyTimeoutMs: attach.readyTimeoutMs,
        // No process output to watch: only the ready timeout ends a wait (a pull reports progress meanwhile).
        stallTimeoutMs: attach.readyTimeoutMs,
        readinessIntervalMs: 50,
        readinessMaxIntervalMs: 1_000,
        probeTimeoutMs: 5_000,
        ...(attach.healthIntervalMs === undefined ? {} : { healthIntervalMs: attach.healthIntervalMs }),
        ...(attach.idleShutdownMs === undefined ? {} : { idleShutdownMs: attach.idleShutdownMs }),
        endpointTemplate: {
          protocol: 'openai_chat_completions',
          baseUrl: `${attach.rootUrl}/v1`,
          headers: attach.headers,
          providerIdentity: 'ollama',
          modelIdentity: attach.model,
          sourceRuntimeRef: attach.rootUrl,
          capabilities: { streaming: true },
          metadata: { ollamaRoot: attach.rootUrl, nativeProtocol: 'ollama_native' },
        },
        backendState: { ...backendState },
      };
    },

    probeReadiness: (target, context) => probeOllamaReadiness(target, context, pulls, refusedSince),

    checkHealth: checkOllamaHealth,

    /** With `keepAlive`, loads the model and keeps it resident: `POST /api/generate {model, keep_alive}`. */
    async onLease(target, lease, context) {
      const { conn, state } = ollamaTarget(target);
      if (state.keepAlive === undefined) return;
      const failure = await setOllamaKeepAlive(conn, state.model, state.keepAlive, {
        signal: context.signal,
        timeoutMs: WARM_UP_TIMEOUT_MS,
      });
      const log = { instanceId: target.instanceId, leaseRef: lease.leaseRef, model: state.model };
      if (failure)
        context.logger.warn(
          { ...log, status: failure.status, error: failure.message },
          'ollama keep-alive warm-up failed',
        );
      else context.logger.debug({ ...log, keepAlive: state.keepAlive }, 'ollama keep-alive warm-up sent');
    },

    /** Sends nothing to the daemon, unless `unloadOnStop`: then only `keep_alive: 0` for this model. */
    async shutdown(target, context) {
      pulls.cancel(target.instanceId);
      refusedSince.delete(target.instanceId);
      const { conn, state } = ollamaTarget(target);
      if (!state.unloadOnStop) return;
      const failure = await setOllamaKeepAlive(conn, state.model, 0, {
        signal: context.signal,
        timeoutMs: WARM_UP_TIMEOUT_MS,
      });
      if (failure) {
        context.logger.warn(
          {
            instanceId: target.instanceId,
            model: state.model,
            status: failure.status,
            error: failure.message,
          },
          'ollama unload failed',
        );
      }
    },
  };
}
