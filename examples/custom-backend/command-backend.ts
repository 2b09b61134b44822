// A third-party backend written only against the public API: any OpenAI-compatible server command.
import { createHash } from 'node:crypto';
import {
  type Backend,
  type Capabilities,
  exposeSecret,
  type HealthResult,
  httpProbe,
  type InstanceSpec,
  type InstanceTarget,
  InvalidBootSpecError,
  type PlanContext,
  type Protocol,
  type ReadinessResult,
  Secret,
  type StartupPlanInput,
} from 'self-hosted-inference-core';

/** The placeholder replaced by the allocated port in `command`. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder, as llama-swap spells it.
export const PORT_PLACEHOLDER = '${PORT}';

/** Options of `createCommandBackend`, modelled on llama-swap's `cmd` / `proxy` / `checkEndpoint`. */
export interface CommandBackendOptions {
  /** Backend id, e.g. `vllm` or `my-server`. */
  id: string;
  /** Executable and arguments; at least one element contains `${PORT}`. No shell is involved. */
  command: string[];
  /** Interface the server binds and clients dial. @default "127.0.0.1" */
  host?: string;
  /** Path answering 200 once the server is ready (503 or a refused connection mean "not yet"). @default "/health" */
  healthPath?: string;
  /** Path of the OpenAI-compatible API under the server root. @default "/v1" */
  apiPath?: string;
  /** Protocol of the published endpoint. @default "openai_chat_completions" */
  protocol?: Protocol;
  /** Capability claims of the manifest and endpoint, e.g. `{ streaming: true }`. @default {} */
  capabilities?: Capabilities;
  /** Environment added to the server's; values may be Secrets (exposed to the child process only). @default {} */
  env?: Record<string, string | Secret<string>>;
  /** Headers every client request needs (e.g. `authorization`); values may be Secrets. @default {} */
  headers?: Record<string, string | Secret<string>>;
  /** Readiness deadline, model load included, in ms. @default 60000 */
  readyTimeoutMs?: number;
  /** Stop after this long without a lease, in ms; `null` = never. @default 300000 */
  idleShutdownMs?: number | null;
}

function invalid(option: string, value: unknown, fix: string): never {
  throw new InvalidBootSpecError(
    `createCommandBackend: option "${option}" ${fix} (received ${JSON.stringify(value)} of type ${typeof value}).`,
    { details: { option } },
  );
}

// Validate every option once, at creation, so a bad command fails before anything could be spawned.
function normalize(options: CommandBackendOptions) {
  const { id, command } = options;
  if (typeof id !== 'string' || !/^[A-Za-z0-9@][A-Za-z0-9@._/-]*$/.test(id)) {
    invalid('id', id, 'must be letters, digits, and . _ / - @');
  }
  if (!Array.isArray(command) || command.length === 0 || command.some((part) => typeof part !== 'string')) {
    invalid('command', command, 'must be a non-empty array of strings');
  }
  if (!command.some((part) => part.includes(PORT_PLACEHOLDER))) {
    invalid(
      'command',
      command,
      `must contain the ${PORT_PLACEHOLDER} placeholder, e.g. ["server", "--port", "${PORT_PLACEHOLDER}"]`,
    );
  }
  const path = (name: string, value: string) =>
    value.startsWith('/') ? value : invalid(name, value, 'must start with "/"');
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  if (!Number.isInteger(readyTimeoutMs) || readyTimeoutMs <= 0) {
    invalid('readyTimeoutMs', readyTimeoutMs, 'must be a positive integer number of milliseconds');
  }
  return {
    id,
    command,
    host: options.host ?? '127.0.0.1',
    healthPath: path('healthPath', options.healthPath ?? '/health'),
    apiPath: path('apiPath', options.apiPath ?? '/v1').replace(/\/+$/, ''),
    protocol: options.protocol ?? 'openai_chat_completions',
    capabilities: options.capabilities ?? {},
    env: options.env ?? {},
    headers: options.headers ?? {},
    readyTimeoutMs,
    idleShutdownMs: options.idleShutdownMs === undefined ? 300_000 : options.idleShutdownMs,
  };
}

// Equal commands share an instance. Env and header values are hashed, so secrets never enter the key.
function instanceKeyOf(o: ReturnType<typeof normalize>): string {
  const material = JSON.stringify({
    command: o.command,
    host: o.host,
    healthPath: o.healthPath,
    env: Object.entries(o.env).map(([name, value]) => [name, exposeSecret(value)]),
  });
  return `${o.id}:${createHash('sha256').update(material).digest('hex').slice(0, 16)}`;
}

const origin = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

async function probe(target: InstanceTarget, signal: AbortSignal, path: string) {
  const root = String(target.plan.backendState.origin);
  return httpProbe(`${root}${path}`, { signal, headers: target.plan.endpointTemplate.headers });
}

/**
 * A spawned backend for any OpenAI-compatible server: runs `command` with `${PORT}` replaced by a free port,
 * is ready when `healthPath` answers 200, and publishes `http://<host>:<port><apiPath>`.
 * @throws InvalidBootSpecError (`invalid_boot_spec`) for bad options, naming the option and the fix.
 */
export function createCommandBackend(options: CommandBackendOptions): Backend {
  const o = normalize(options);
  const key = instanceKeyOf(o);
  return {
    specificationVersion: 'v1',
    id: o.id,
    manifest: {
      backend: o.id,
      runtimeKind: 'service',
      managementModes: ['kernel_managed'],
      startupKind: 'spawned',
      protocols: [o.protocol],
      capabilities: o.capabilities,
      supportedSurfaces: ['local_subprocess'],
      metadata: { executable: o.command[0] },
    },

    instanceKey: () => key,

    async startupPlan(spec: InstanceSpec, context: PlanContext): Promise<StartupPlanInput> {
      const port = await context.allocatePort(o.host);
      const [executable, ...args] = o.command.map((part) => part.replaceAll(PORT_PLACEHOLDER, String(port)));
      const root = origin(o.host, port);
      return {
        instanceKey: key,
        startupKind: 'spawned',
        managementMode: 'kernel_managed',
        transport: {
          command: executable!,
          args,
          env: Object.fromEntries(Object.entries(o.env).map(([name, value]) => [name, exposeSecret(value)])),
          executionSurface: 'local_subprocess',
        },
        port,
        readyTimeoutMs: o.readyTimeoutMs,
        idleShutdownMs: o.idleShutdownMs,
        endpointTemplate: {
          protocol: o.protocol,
          baseUrl: `${root}${o.apiPath}`,
          headers: Object.fromEntries(
            Object.entries(o.headers).map(([name, value]) => [name, Secret.from(value)]),
          ),
          providerIdentity: o.id,
          ...(spec.modelIdentity === undefined ? {} : { modelIdentity: spec.modelIdentity }),
          capabilities: o.capabilities,
        },
        backendState: { origin: root },
      };
    },

    async probeReadiness(target, context): Promise<ReadinessResult> {
      try {
        const response = await probe(target, context.signal, o.healthPath);
        if (response.status === 200) return { status: 'ready', detail: `${o.healthPath} answered 200` };
        return { status: 'pending', detail: `${o.healthPath} answered HTTP ${response.status}` };
      } catch (error) {
        return { status: 'pending', detail: `${o.healthPath}: ${(error as Error).message}` };
      }
    },

    async checkHealth(target, context): Promise<HealthResult> {
      try {
        const response = await probe(target, context.signal, o.healthPath);
        return response.status === 200
          ? { status: 'healthy' }
          : { status: 'unavailable', detail: `${o.healthPath} answered HTTP ${response.status}` };
      } catch (error) {
        return { status: 'unavailable', detail: `${o.healthPath}: ${(error as Error).message}` };
      }
    },

    // A lost bind race ends the process with a message like these; the kernel then retries on a new port.
    onProcessEvent(event) {
      if (event.type === 'exit') return undefined;
      return /address already in use|EADDRINUSE|couldn't bind/i.test(event.line)
        ? { addressInUse: true }
        : undefined;
    },
  };
}
