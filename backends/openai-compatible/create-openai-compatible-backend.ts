import { createHash } from 'node:crypto';
import {
  type Backend,
  type BackendManifestInput,
  exposeSecret,
  type HealthResult,
  type InstanceSpec,
  type InstanceTarget,
  InvalidBootSpecError,
  ModelNotFoundError,
  type ProbeContext,
  type ReadinessResult,
  ReadinessTimeoutError,
  ServiceUnreachableError,
  type StartupPlanInput,
} from 'self-hosted-inference-core';
import { listServedModels } from './list-served-models.js';
import {
  type OpenAiCompatibleOptions,
  type OpenAiCompatibleSpec,
  parseOpenAiCompatibleSpec,
} from './openai-compatible-spec.js';

/** The `openai-compatible` manifest: attached, never started or stopped, speaks OpenAI's API. */
export const OPENAI_COMPATIBLE_MANIFEST: BackendManifestInput = {
  backend: 'openai-compatible',
  runtimeKind: 'service',
  managementModes: ['externally_managed'],
  startupKind: 'attach_existing_service',
  protocols: ['openai_chat_completions', 'openai_completions', 'openai_embeddings'],
  capabilities: { streaming: true, toolCalling: 'unknown', embeddings: 'unknown' },
  supportedSurfaces: [],
  resourceProfile: { memory: 'owned by the remote server' },
  metadata: {},
};

/** What the backend keeps in `plan.backendState` (no secrets: headers stay in the endpoint template). */
interface AttachState {
  baseUrl: string;
  model: string;
  connectTimeoutMs: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function instanceKey(spec: OpenAiCompatibleSpec): string {
  const headers = Object.entries(spec.headers)
    .map(([name, value]) => `${name}:${exposeSecret(value)}`)
    .sort()
    .join('\n');
  // The header digest keeps credentials apart without putting any of them in the key.
  return `openai-compatible:${sha256([spec.baseUrl, spec.model, sha256(headers)].join('\n')).slice(0, 24)}`;
}

function stateOf(target: InstanceTarget) {
  return {
    state: target.plan.backendState as unknown as AttachState,
    headers: target.plan.endpointTemplate.headers,
  };
}

/**
 * The `openai-compatible` backend: attaches to any server that speaks OpenAI's API (vLLM, llama-server or
 * LM Studio on another machine, a hosted gateway) by its base URL. Never starts or stops it.
 *
 * - Ready when `GET <baseUrl>/models` answers 200 and lists the model; a missing model fails at the ready
 *   timeout with `model_not_found` listing what the server serves; 401/403 fail at once (`invalid_boot_spec`:
 *   check `apiKey`); connections refused for `connectTimeoutMs` fail with `service_unreachable`.
 * - Health: the same listing (`healthy` / `unavailable` with the reason).
 * - `apiKey` becomes `authorization: Bearer …`, a Secret: never logged, never in the instance key.
 */
export function createOpenAiCompatibleBackend(defaults: OpenAiCompatibleOptions = {}): Backend {
  const refusedSince = new Map<string, number>();
  return {
    specificationVersion: 'v1',
    id: 'openai-compatible',
    manifest: OPENAI_COMPATIBLE_MANIFEST,

    instanceKey: (spec: InstanceSpec) => instanceKey(parseOpenAiCompatibleSpec(spec, defaults)),

    startupPlan(spec: InstanceSpec): StartupPlanInput {
      const attach = parseOpenAiCompatibleSpec(spec, defaults);
      const state: AttachState = {
        baseUrl: attach.baseUrl,
        model: attach.model,
        connectTimeoutMs: attach.connectTimeoutMs,
      };
      return {
        instanceKey: instanceKey(attach),
        startupKind: 'attach_existing_service',
        managementMode: 'externally_managed',
        readyTimeoutMs: attach.readyTimeoutMs,
        stallTimeoutMs: attach.readyTimeoutMs,
        readinessIntervalMs: 50,
        readinessMaxIntervalMs: 1_000,
        probeTimeoutMs: 5_000,
        ...(attach.healthIntervalMs === undefined ? {} : { healthIntervalMs: attach.healthIntervalMs }),
        ...(attach.idleShutdownMs === undefined ? {} : { idleShutdownMs: attach.idleShutdownMs }),
        endpointTemplate: {
          protocol: 'openai_chat_completions',
          baseUrl: attach.baseUrl,
          headers: attach.headers,
          providerIdentity: 'openai-compatible',
          modelIdentity: attach.model,
          sourceRuntimeRef: attach.baseUrl,
          capabilities: { streaming: true },
          metadata: {},
        },
        backendState: { ...state },
      };
    },

    async probeReadiness(target: InstanceTarget, context: ProbeContext): Promise<ReadinessResult> {
      const { state, headers } = stateOf(target);
      const served = await listServedModels(state.baseUrl, headers, context.signal);
      if (served.state === 'unreachable') {
        if (served.refused) {
          const since = refusedSince.get(target.instanceId) ?? Date.now();
          refusedSince.set(target.instanceId, since);
          if (Date.now() - since >= state.connectTimeoutMs) {
            refusedSince.delete(target.instanceId);
            return {
              status: 'failed',
              error: new ServiceUnreachableError(
                `Nothing listens at ${state.baseUrl}: every connection was refused for ${state.connectTimeoutMs} ms. Start the server, or fix baseUrl.`,
                { backend: 'openai-compatible', details: { baseUrl: state.baseUrl } },
              ),
            };
          }
        } else refusedSince.delete(target.instanceId);
        return {
          status: 'pending',
          detail: `${state.baseUrl} is unreachable: ${served.message}`,
          timeoutError: new ReadinessTimeoutError(`${state.baseUrl} did not answer: ${served.message}.`, {
            backend: 'openai-compatible',
            details: { baseUrl: state.baseUrl },
          }),
        };
      }
      refusedSince.delete(target.instanceId);
      if (served.state === 'http_error') {
        if (served.status === 401 || served.status === 403) {
          return {
            status: 'failed',
            error: new InvalidBootSpecError(
              `${state.baseUrl} refused the credentials (HTTP ${served.status}: ${served.message}); check apiKey or headers.`,
              { backend: 'openai-compatible', details: { baseUrl: state.baseUrl, status: served.status } },
            ),
          };
        }
        return { status: 'pending', detail: `GET /models answered HTTP ${served.status}: ${served.message}` };
      }
      if (!served.ids.includes(state.model)) {
        return {
          status: 'pending',
          detail: `model ${state.model} not served`,
          timeoutError: new ModelNotFoundError(
            `${state.baseUrl} does not serve model "${state.model}"; it serves: ${served.ids.join(', ') || 'nothing'}.`,
            { backend: 'openai-compatible', details: { model: state.model, served: served.ids } },
          ),
        };
      }
      return {
        status: 'ready',
        detail: `serves ${state.model}`,
        metadata: { servedModels: served.ids.length },
      };
    },

    async checkHealth(target: InstanceTarget, context: ProbeContext): Promise<HealthResult> {
      const { state, headers } = stateOf(target);
      const served = await listServedModels(state.baseUrl, headers, context.signal);
      if (served.state === 'unreachable') return { status: 'unavailable', detail: served.message };
      if (served.state === 'http_error') {
        return {
          status: 'unavailable',
          detail: `GET /models answered HTTP ${served.status}: ${served.message}`,
        };
      }
      return served.ids.includes(state.model)
        ? { status: 'healthy', detail: `serves ${state.model}` }
        : { status: 'unavailable', detail: `model ${state.model} is no longer served` };
    },

    async shutdown(target: InstanceTarget) {
      // Never owned: nothing is sent to the server.
      refusedSince.delete(target.instanceId);
    },
  };
}
