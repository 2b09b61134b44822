import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import {
  type Backend,
  type BackendManifestInput,
  clientHost,
  type InstanceSpec,
  InvalidBootSpecError,
  type MemoryEstimate,
  type PlanContext,
  type ProbeContext,
  readGgufHeader,
  Secret,
  type StartupPlan,
  type StartupPlanInput,
} from 'self-hosted-inference-core';
import { type LlamaCppBootSpec, type LlamaCppBootSpecInput, normalizeLlamaCppBootSpec } from './boot-spec.js';
import { buildLlamaServerArgs } from './build-llama-server-args.js';
import { buildLlamaServerEnv, inheritedLlamaServerVars } from './build-llama-server-env.js';
import { checkGgufModel } from './check-gguf-model.js';
import { checkLlamaCppSpec } from './check-llama-cpp-spec.js';
import { checkLlamaFunctional } from './check-llama-functional.js';
import { checkLlamaHealth } from './check-llama-health.js';
import { checkLlamaServerBinary } from './check-llama-server-binary.js';
import { estimateLlamaMemory, memoryArgsOf } from './estimate-llama-memory.js';
import { llamaCppInstanceKey } from './instance-key.js';
import { interpretLlamaServerOutput } from './interpret-llama-server-output.js';
import type { LlamaCppBackendState } from './llama-server-target.js';
import { probeLlamaReadiness } from './probe-llama-readiness.js';

/** Options of `createLlamaCppBackend`. */
export interface LlamaCppBackendOptions {
  /** Boot spec fields every instance starts from; a request's `bootSpec` overrides them field by field. */
  defaults?: Partial<LlamaCppBootSpecInput>;
  /**
   * llama-server executable for every instance (e.g. from `provisionLlamaServer()`); a boot spec's own wins.
   * @default `SHIC_LLAMA_SERVER`, else `llama-server` on `PATH`, else the newest build in the provisioning cache
   */
  binaryPath?: string;
  /**
   * What the manifest claims about embeddings, so consumers can check it before anything starts:
   * - `true`: every instance runs with `--embeddings`; the manifest lists `openai_embeddings` and
   *   `embeddings: true` (a spec with `embeddings: false` is rejected).
   * - `false`: no instance serves embeddings (a spec with `embeddings: true` is rejected).
   * - unset: each spec decides; the manifest says `embeddings: 'unknown'`, and each endpoint's capabilities
   *   say what its instance really does. A consumer *requiring* embeddings needs `true`.
   */
  embeddings?: boolean;
  /** Upper bound of the preflight `llama-server --version` run, in ms. @default 10000 */
  versionTimeoutMs?: number;
}

/** Protocols every llama-server endpoint speaks; `openai_embeddings` joins them when embeddings are on. */
const BASE_PROTOCOLS = ['openai_chat_completions', 'openai_completions'];

/** The llama-cpp manifest for an embeddings claim (see `LlamaCppBackendOptions.embeddings`). */
export function llamaCppManifest(embeddings?: boolean): BackendManifestInput {
  return {
    backend: 'llama-cpp',
    runtimeKind: 'service',
    managementModes: ['kernel_managed'],
    startupKind: 'spawned',
    protocols: embeddings === true ? [...BASE_PROTOCOLS, 'openai_embeddings'] : [...BASE_PROTOCOLS],
    capabilities: { streaming: true, toolCalling: 'unknown', embeddings: embeddings ?? 'unknown' },
    supportedSurfaces: ['local_subprocess'],
    resourceProfile: { accelerators: ['cpu', 'cuda', 'metal', 'vulkan'], memory: 'model size + KV cache' },
    metadata: { binary: 'llama-server' },
  };
}

const KEY_CACHE_SIZE = 256;

// The identity of a spec for the instance-key cache: its launch inputs, with each Secret replaced by a digest so
// two different keys never share an entry (JSON.stringify alone would print both as "[redacted]").
function keyCacheKey(spec: InstanceSpec): string {
  return JSON.stringify(
    [spec.bootSpec, spec.backendOptions, spec.modelIdentity, spec.executionSurface, process.cwd()],
    // `toJSON` runs before a replacer sees the value, so read the raw one from the holder.
    function (this: Record<string, unknown>, name: string, value: unknown) {
      const raw = this[name];
      return Secret.isInstance(raw)
        ? `secret:${createHash('sha256').update(String(raw.expose())).digest('hex')}`
        : value;
    },
  );
}

function bootSpecOf(
  spec: InstanceSpec,
  options: LlamaCppBackendOptions,
  embeddingsClaim?: boolean,
): LlamaCppBootSpec {
  const input = {
    ...options.defaults,
    ...(options.binaryPath === undefined ? {} : { binaryPath: options.binaryPath }),
    ...(embeddingsClaim === true ? { embeddings: true } : {}),
    ...spec.backendOptions,
    ...spec.bootSpec,
  };
  const boot = normalizeLlamaCppBootSpec(
    input,
    spec.modelIdentity === undefined ? {} : { modelIdentity: spec.modelIdentity },
  );
  if (embeddingsClaim !== undefined && boot.embeddings !== embeddingsClaim) {
    throw new InvalidBootSpecError(
      `bootSpec.embeddings is ${boot.embeddings}, but this llama-cpp backend was created with embeddings: ${embeddingsClaim} and its manifest says so. Drop the field, or create the backend without the embeddings option.`,
      { backend: 'llama-cpp', details: { field: 'embeddings', received: boot.embeddings } },
    );
  }
  return boot;
}

/** Builds the startup plan of a normalized boot spec on a port. No secret goes into `backendState`. */
export function llamaCppStartupPlan(
  boot: LlamaCppBootSpec,
  port: number,
  executionSurface?: string,
): StartupPlanInput {
  const serverUrl = `http://${clientHost(boot.host)}:${port}${boot.apiPrefix ?? ''}`;
  const backendState: LlamaCppBackendState = {
    serverUrl,
    modelPath: boot.model,
    binary: boot.binaryPath,
    alias: boot.alias,
    embeddings: boot.embeddings,
    authenticated: boot.apiKey !== undefined,
  };
  return {
    instanceKey: llamaCppInstanceKey(boot),
    startupKind: 'spawned',
    managementMode: 'kernel_managed',
    transport: {
      command: boot.binaryPath,
      args: buildLlamaServerArgs(boot, port),
      env: buildLlamaServerEnv(boot),
      unsetEnv: inheritedLlamaServerVars(boot),
      executionSurface: executionSurface ?? 'local_subprocess',
    },
    port,
    readyTimeoutMs: boot.readyTimeoutMs,
    stopTimeoutMs: boot.stopTimeoutMs,
    idleShutdownMs: boot.idleShutdownMs,
    // A chosen port cannot change, so a lost bind race is final.
    ...(boot.port === undefined ? {} : { portRetries: 0 }),
    // The functional check decodes a token: rare enough not to compete with real traffic.
    functionalHealthIntervalMs: 300_000,
    endpointTemplate: {
      protocol: 'openai_chat_completions',
      baseUrl: `${serverUrl}/v1`,
      headers:
        boot.apiKey === undefined ? {} : { authorization: new Secret(`Bearer ${boot.apiKey.expose()}`) },
      providerIdentity: 'llama-cpp',
      modelIdentity: boot.alias,
      capabilities: { streaming: true, toolCalling: 'unknown', embeddings: boot.embeddings },
      metadata: {
        modelPath: boot.model,
        protocols: boot.embeddings ? [...BASE_PROTOCOLS, 'openai_embeddings'] : [...BASE_PROTOCOLS],
      },
    },
    backendState: { ...backendState },
  };
}

/**
 * The llama.cpp backend: spawns `llama-server` for a GGUF model and publishes its OpenAI-compatible endpoint
 * (`http://host:port[apiPrefix]/v1`). Boot spec: `targetPreference.bootSpec` (see `LlamaCppBootSpecInput`) over
 * `options.defaults`. Before spawning, preflight checks the model is a GGUF file and the binary runs.
 */
export function createLlamaCppBackend(options: LlamaCppBackendOptions = {}): Backend {
  const embeddingsClaim = options.embeddings;
  // Warm ensures ask for the key of the same spec over and over; normalizing it each time costs ~6 µs.
  const keyCache = new Map<string, string>();
  return {
    specificationVersion: 'v1',
    id: 'llama-cpp',
    manifest: llamaCppManifest(embeddingsClaim),

    async startupPlan(spec: InstanceSpec, context: PlanContext): Promise<StartupPlanInput> {
      const boot = bootSpecOf(spec, options, embeddingsClaim);
      const port = boot.port ?? (await context.allocatePort(boot.host));
      return llamaCppStartupPlan(boot, port, spec.executionSurface);
    },

    // Pure apart from a `"generate"` key's random bytes (excluded from the key): lets a warm ensure skip planning.
    instanceKey(spec: InstanceSpec): string {
      const cacheKey = keyCacheKey(spec);
      let key = keyCache.get(cacheKey);
      if (key === undefined) {
        key = llamaCppInstanceKey(bootSpecOf(spec, options, embeddingsClaim));
        if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear();
        keyCache.set(cacheKey, key);
      }
      return key;
    },

    async preflight(plan: StartupPlan, context: ProbeContext): Promise<void> {
      const state = plan.backendState as unknown as LlamaCppBackendState;
      await checkGgufModel(state.modelPath);
      const envPath = plan.transport?.env.PATH ?? process.env.PATH;
      const checked = await checkLlamaServerBinary(plan.transport?.command ?? state.binary, {
        envPath,
        ...(options.versionTimeoutMs === undefined ? {} : { timeoutMs: options.versionTimeoutMs }),
      });
      context.logger.debug(
        { binary: checked.path, version: checked.version },
        'llama-server preflight passed',
      );
    },

    checkSpec: (spec: InstanceSpec) =>
      checkLlamaCppSpec(spec, (s) => bootSpecOf(s, options, embeddingsClaim), options.versionTimeoutMs),

    async estimateMemory(plan: StartupPlan): Promise<MemoryEstimate> {
      const state = plan.backendState as unknown as LlamaCppBackendState;
      const args = memoryArgsOf(plan.transport?.args ?? []);
      const model = args.model ?? state.modelPath;
      await checkGgufModel(model);
      const mmprojBytes =
        args.mmproj === undefined ? 0 : (await stat(args.mmproj).catch(() => undefined))?.size;
      const { bytes, detail } = estimateLlamaMemory(await readGgufHeader(model), {
        ...args,
        ...(mmprojBytes ? { mmprojBytes } : {}),
      });
      return { bytes, detail };
    },

    probeReadiness: probeLlamaReadiness,
    checkHealth: checkLlamaHealth,
    checkFunctional: checkLlamaFunctional,
    onProcessEvent: (event, target) => interpretLlamaServerOutput(event, target.plan.transport?.args),
  };
}
