import {
  authHeaders,
  defineContract,
  type InstanceSpec,
  InvalidBootSpecError,
  Secret,
  type Secret as SecretType,
} from 'self-hosted-inference-core';
import { z } from 'zod';
import { resolveOllamaRoot } from './ollama-host.js';

const secretSchema = z.custom<SecretType<string>>((v) => Secret.isInstance(v), 'must be a string or Secret');
const ms = z.number().int().positive().max(2_147_483_647);
/** What Go's time.ParseDuration accepts (Ollama parses `keep_alive` strings with it): "0", or number+unit runs. */
const GO_DURATION = /^[-+]?(0|((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

/** Options of the Ollama backend: defaults given to `createOllamaBackend`, overridden per spec. */
export const ollamaAttachOptionsSchema = z.strictObject({
  /** Ollama address in any `OLLAMA_HOST` form. @default env.OLLAMA_HOST, else http://127.0.0.1:11434 */
  rootUrl: z.string().min(1).optional(),
  /** Model to serve when the spec has no `modelIdentity`, e.g. `llama3.2` or `qwen2.5:0.5b`. */
  model: z.string().min(1).optional(),
  /** Extra headers on every request (names are case-insensitive); auth-like values are held as Secrets. */
  headers: z.record(z.string().min(1), z.union([z.string(), secretSchema])).optional(),
  /** API key for an authenticating proxy in front of Ollama; sent as `authorization: Bearer <key>`. */
  apiKey: z.union([z.string().min(1), secretSchema]).optional(),
  /** Ask the daemon to pull a missing model (`POST /api/pull`) instead of failing. @default false */
  pull: z.boolean().optional(),
  /**
   * Ollama `keep_alive` sent in a warm-up request each time a lease is granted, so the model stays resident
   * while leased: a duration string (`"30m"`), seconds as a number, or a negative value for "forever".
   */
  keepAlive: z
    .union([
      z
        .string()
        .regex(
          GO_DURATION,
          'must be a Go duration as Ollama parses it ("30m", "1h30m", "90s", "-1m"; a bare number needs a unit) or a number of seconds',
        ),
      z.number(),
    ])
    .optional(),
  /**
   * How long a refused connection (nothing listens at `rootUrl`) is retried before the attach fails, in ms. A
   * daemon that is starting answers within it; raise it to wait for one that starts later. @default 5000
   */
  connectTimeoutMs: ms.optional(),
  /** On stop, ask Ollama to unload the model (`keep_alive: 0`). Never stops the daemon. @default false */
  unloadOnStop: z.boolean().optional(),
  /** Readiness deadline in ms. @default 60000, or 3600000 with `pull: true` */
  readyTimeoutMs: ms.optional(),
  /** Health check interval while ready, in ms. @default 5000 */
  healthIntervalMs: ms.optional(),
  /** Stop tracking the attached instance after this long without a lease, in ms; `null` = never. @default 300000 */
  idleShutdownMs: ms.nullable().optional(),
});
export type OllamaAttachOptions = z.input<typeof ollamaAttachOptionsSchema>;

/** Parses Ollama backend options; failures are `invalid_boot_spec` errors naming every bad field. */
export const ollamaAttachOptionsContract = defineContract(
  'OllamaAttachOptions',
  'invalid_boot_spec',
  ollamaAttachOptionsSchema,
);

/** A validated, normalized attach spec: what the Ollama backend plans and probes from. */
export interface OllamaAttachSpec {
  /** Root URL without trailing slash or `/v1`. */
  rootUrl: string;
  /** The model as the caller named it. */
  model: string;
  /** Lower-cased header names; auth-like values are Secrets. */
  headers: Record<string, string | SecretType<string>>;
  pull: boolean;
  keepAlive?: string | number;
  unloadOnStop: boolean;
  readyTimeoutMs: number;
  connectTimeoutMs: number;
  healthIntervalMs?: number;
  idleShutdownMs?: number | null;
}

function fail(message: string, details: Record<string, unknown>): never {
  throw new InvalidBootSpecError(message, { backend: 'ollama', details });
}

/**
 * Validates and normalizes the attach spec: `spec.backendOptions` over the backend's default options, the root
 * URL from `rootUrl`, else `env.OLLAMA_HOST`, and the model from `spec.modelIdentity`, else `model`.
 * @throws ContractValidationError (`invalid_boot_spec`) naming every bad option field.
 * @throws InvalidBootSpecError (`invalid_boot_spec`) when no model is named, or for a bad address or header.
 */
export function parseOllamaAttachSpec(
  spec: InstanceSpec,
  defaults: OllamaAttachOptions = {},
  env: Record<string, string | undefined> = process.env,
): OllamaAttachSpec {
  const merged = { ...defaults, ...spec.backendOptions };
  const options = ollamaAttachOptionsContract.parse(merged);
  const model = spec.modelIdentity ?? options.model;
  if (!model) {
    fail(
      'The Ollama backend needs a model: set modelIdentity on the request (modelPreference.id) or the backend option "model", e.g. "llama3.2".',
      { field: 'modelIdentity' },
    );
  }
  const pull = options.pull ?? false;
  return {
    rootUrl: resolveOllamaRoot(options.rootUrl ?? env.OLLAMA_HOST),
    model: model.trim(),
    headers: authHeaders(options.headers ?? {}, options.apiKey, 'ollama'),
    pull,
    ...(options.keepAlive === undefined ? {} : { keepAlive: options.keepAlive }),
    unloadOnStop: options.unloadOnStop ?? false,
    readyTimeoutMs: options.readyTimeoutMs ?? (pull ? 3_600_000 : 60_000),
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    ...(options.healthIntervalMs === undefined ? {} : { healthIntervalMs: options.healthIntervalMs }),
    ...(options.idleShutdownMs === undefined ? {} : { idleShutdownMs: options.idleShutdownMs }),
  };
}
