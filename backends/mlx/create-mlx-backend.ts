import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import {
  type Backend,
  httpProbe,
  type InstanceSpec,
  type PlanContext,
  ReadinessTimeoutError,
  type StartupPlanInput,
} from 'self-hosted-inference-core';
import { assertMlxPlatform, type MlxPlatform } from './assert-mlx-platform.js';
import { buildMlxServerCommand } from './build-mlx-server-command.js';
import { type MlxBootSpec, type MlxBootSpecInput, parseMlxBootSpec } from './mlx-boot-spec.js';
import { MLX_MANIFEST } from './mlx-manifest.js';
import { type MlxBackendState, mlxTarget } from './mlx-target.js';
import { preflightMlx } from './preflight-mlx.js';
import { probeMlxCompletion } from './probe-mlx-completion.js';

/** Options of `createMlxBackend`: boot spec defaults, plus the machine the platform gate looks at. */
export interface CreateMlxBackendOptions extends MlxBootSpecInput {
  /** The machine to gate on. @default this process's platform and arch */
  machine?: MlxPlatform;
}

// A server bound to every interface is still dialed on loopback.
function clientOrigin(host: string, port: number): string {
  const dial = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${isIP(dial) === 6 ? `[${dial}]` : dial}:${port}`;
}

// Equal boot specs share an instance; the allocated port is left out (it changes on each bind retry).
function mlxInstanceKey(boot: MlxBootSpec): string {
  const { model, host, port, extraArgs, binaryPath, pythonPath, command, env, cwd } = boot;
  const material = JSON.stringify({
    model,
    host,
    port,
    extraArgs,
    binaryPath,
    pythonPath,
    command,
    env,
    cwd,
  });
  return `mlx:${model.slice(-200)}#${createHash('sha256').update(material).digest('hex').slice(0, 16)}`;
}

/**
 * The MLX backend (`mlx`): spawns Apple's `mlx_lm.server` (mlx-lm) and publishes its OpenAI-compatible API.
 *
 * - Boot spec: `model` (local directory or Hugging Face repo id), `host` (127.0.0.1), `port` (free port),
 *   `extraArgs`, and one launcher: `binaryPath` (`mlx_lm.server` from PATH), `pythonPath` (`python -m
 *   mlx_lm.server`) or `command` (a prefix such as `[node, script]`); `env`, `cwd`.
 * - Only on macOS on Apple silicon: elsewhere `platform_unsupported` before anything is spawned, unless
 *   `allowUnsupportedPlatform: true`.
 * - Readiness is functional: a 1-token `POST /v1/completions` must succeed, because `/health` answers 200
 *   before the model is loaded and `/v1/models` lists the Hugging Face cache. Health: `/health` for
 *   liveness every `healthIntervalMs`, the same 1-token completion every `functionalHealthIntervalMs`.
 * - No API key support in `mlx_lm.server` (manifest `capabilities.apiKey: false`).
 */
export function createMlxBackend(options: CreateMlxBackendOptions = {}): Backend {
  const { machine = {}, ...defaults } = options;

  return {
    specificationVersion: 'v1',
    id: 'mlx',
    manifest: MLX_MANIFEST,

    instanceKey(spec: InstanceSpec): string {
      return mlxInstanceKey(parseMlxBootSpec(spec, defaults));
    },

    async startupPlan(spec: InstanceSpec, context: PlanContext): Promise<StartupPlanInput> {
      const boot = parseMlxBootSpec(spec, defaults);
      assertMlxPlatform(machine, boot.allowUnsupportedPlatform);
      const port = boot.port ?? (await context.allocatePort(boot.host));
      const { command, args } = buildMlxServerCommand({ ...boot, port });
      const origin = clientOrigin(boot.host, port);
      const backendState: MlxBackendState = {
        model: boot.model,
        origin,
        launcher: boot.command ? 'command' : boot.pythonPath ? 'python' : 'binary',
      };
      return {
        instanceKey: mlxInstanceKey(boot),
        startupKind: 'spawned',
        managementMode: 'kernel_managed',
        transport: {
          command,
          args,
          env: boot.env,
          ...(boot.cwd === undefined ? {} : { cwd: boot.cwd }),
          executionSurface: 'local_subprocess',
        },
        port,
        readyTimeoutMs: boot.readyTimeoutMs,
        // mlx_lm.server prints nothing while it loads weights: only the ready timeout ends the wait.
        stallTimeoutMs: boot.readyTimeoutMs,
        readinessIntervalMs: 50,
        readinessMaxIntervalMs: 1_000,
        // The first token can take seconds (Metal kernels compile on first use).
        probeTimeoutMs: 30_000,
        ...(boot.functionalHealthIntervalMs === undefined
          ? {}
          : { functionalHealthIntervalMs: boot.functionalHealthIntervalMs }),
        ...(boot.idleShutdownMs === undefined ? {} : { idleShutdownMs: boot.idleShutdownMs }),
        endpointTemplate: {
          protocol: 'openai_chat_completions',
          baseUrl: `${origin}/v1`,
          providerIdentity: 'mlx',
          modelIdentity: boot.model,
          capabilities: { streaming: true, apiKey: false },
          metadata: { server: 'mlx_lm.server' },
        },
        backendState: { ...backendState },
      };
    },

    preflight: (plan, context) => preflightMlx(plan, context.signal),

    async probeReadiness(target, context) {
      const { origin, model } = mlxTarget(target);
      const probe = await probeMlxCompletion(origin, model, { signal: context.signal });
      if (probe.ok)
        return {
          status: 'ready',
          detail: '1-token completion succeeded',
          metadata: { readiness: 'completion' },
        };
      return {
        status: 'pending',
        detail: probe.detail,
        timeoutError: new ReadinessTimeoutError(
          `mlx_lm.server at ${origin} never completed a 1-token completion for "${model}" (last: ${probe.detail}). A first run downloads the model: raise bootSpec.readyTimeoutMs, or check the model id.`,
          {
            backend: 'mlx',
            instanceId: target.instanceId,
            details: { model, origin, lastStatus: probe.status },
          },
        ),
      };
    },

    /** Liveness only: `/health` is a constant 200 once the HTTP server runs. */
    async checkHealth(target, context) {
      const { origin } = mlxTarget(target);
      try {
        const response = await httpProbe(`${origin}/health`, { signal: context.signal });
        return response.status === 200
          ? { status: 'healthy', detail: 'HTTP server alive' }
          : { status: 'unavailable', detail: `/health answered HTTP ${response.status}` };
      } catch (error) {
        return {
          status: 'unavailable',
          detail: `/health failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    },

    /** The 1-token completion again: catches a server that is alive but cannot generate. */
    async checkFunctional(target, context) {
      const { origin, model } = mlxTarget(target);
      const probe = await probeMlxCompletion(origin, model, { signal: context.signal });
      return probe.ok
        ? { status: 'healthy', detail: '1-token completion succeeded' }
        : { status: 'degraded', detail: probe.detail };
    },

    onProcessEvent(event) {
      if (event.type === 'exit') return undefined;
      if (/Address already in use/i.test(event.line)) return { addressInUse: true };
      if (/Fetching \d+ files/.test(event.line)) {
        return { progress: { phase: 'downloading', message: event.line.trim() } };
      }
      if (/Starting httpd at/.test(event.line)) {
        return {
          progress: { phase: 'loading', message: 'HTTP server up; waiting for a 1-token completion' },
        };
      }
      return undefined;
    },
  };
}
