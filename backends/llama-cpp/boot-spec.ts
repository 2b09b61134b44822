import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { InvalidBootSpecError, Secret, type Secret as SecretType, valueAt } from 'self-hosted-inference-core';
import { z } from 'zod';
import { findLlamaServer } from './find-llama-server.js';

const secretSchema = z.custom<SecretType<string>>((v) => Secret.isInstance(v), 'must be a string or Secret');
const ms = z.number().int().positive().max(2_147_483_647);
const count = z.number().int().positive().max(1_000_000);
/** The KV cache types llama-server accepts for `--cache-type-k/-v`. */
export const KV_CACHE_TYPES = [
  'f32',
  'f16',
  'bf16',
  'q8_0',
  'q4_0',
  'q4_1',
  'iq4_nl',
  'q5_0',
  'q5_1',
] as const;
const kvCacheType = z.enum(KV_CACHE_TYPES);

/** The llama-cpp boot spec as a caller writes it (`targetPreference.bootSpec`, over the backend defaults). */
export const llamaCppBootSpecSchema = z.strictObject({
  /** Path of the GGUF model file (relative paths resolve against the kernel's working directory). */
  model: z.string().min(1, 'is required: the path of a .gguf model file'),
  /** Multimodal projector file beside the model (`--mmproj`); relative paths resolve like `model`. */
  mmproj: z.string().min(1).optional(),
  /** Model name the server reports (`--alias`). @default the request's model id, else the model file's basename without extension */
  alias: z.string().min(1).optional(),
  /** Interface to bind (`--host`). @default "127.0.0.1" */
  host: z.string().min(1).optional(),
  /** TCP port (`--port`). @default a free port from the kernel's allocator */
  port: z.number().int().min(1).max(65_535).optional(),
  /** Context size in tokens (`--ctx-size`). @default llama-server's own (the model's training context) */
  ctxSize: count.optional(),
  /** CPU threads (`--threads`). @default llama-server's own */
  threads: count.optional(),
  /** Parallel sequences / slots (`--parallel`). @default llama-server's own */
  parallel: count.optional(),
  /** Layers offloaded to the GPU (`--n-gpu-layers`); 0 = CPU only. */
  nGpuLayers: z.number().int().nonnegative().max(100_000).optional(),
  /** KV cache type of keys (`--cache-type-k`), e.g. `q8_0` to halve the cache. @default llama-server's own (f16) */
  cacheTypeK: kvCacheType.optional(),
  /** KV cache type of values (`--cache-type-v`); quantized types need flash attention (llama-server's default `auto` on CPU). @default f16 */
  cacheTypeV: kvCacheType.optional(),
  /**
   * Have llama-server log what it allocates (`--log-verbosity 4`), so the kernel can charge the measured memory
   * and remember it for the next start (guides/residency.md). @default true
   */
  reportMemory: z.boolean().optional(),
  /** Serve `/v1/embeddings` (`--embeddings`). @default false */
  embeddings: z.boolean().optional(),
  /**
   * API key llama-server requires on every request (except `/health`): a string, a Secret, or `"generate"` for a
   * random key per instance. Published as the endpoint's `authorization` header (a Secret).
   */
  apiKey: z.union([z.string().min(1), secretSchema]).optional(),
  /** Path prefix of every route (`--api-prefix`), e.g. `/llm`; must start with `/`. */
  apiPrefix: z
    .string()
    .regex(/^\/[^\s?#]*$/, 'must start with "/" and contain no spaces, "?" or "#"')
    .optional(),
  /** Server read/write timeout in seconds (`--timeout`). */
  timeout: count.optional(),
  /** Further llama-server arguments, appended after the generated flags. */
  extraArgs: z.array(z.string()).optional(),
  /** Environment added to the server's (over the kernel's own). */
  env: z.record(z.string().min(1), z.string()).optional(),
  /**
   * llama-server executable: a path, or a name looked up on `PATH`.
   * @default `SHIC_LLAMA_SERVER`, else `llama-server` on `PATH`, else the newest `shic llama-server build` in the cache
   */
  binaryPath: z.string().min(1).optional(),
  /** SIGTERM → SIGKILL grace when stopping, in ms. @default 5000 */
  stopTimeoutMs: ms.optional(),
  /** Readiness deadline (model load included), in ms. @default 60000 */
  readyTimeoutMs: ms.optional(),
  /** Stop the instance after this long without a lease, in ms; `null` = never. @default 300000 */
  idleShutdownMs: ms.nullable().optional(),
});
/** Boot spec input; every field but `model` is optional. */
export type LlamaCppBootSpecInput = z.input<typeof llamaCppBootSpecSchema>;

/** A validated boot spec with every default applied: what the plan, args and instance key are built from. */
export interface LlamaCppBootSpec {
  /** Absolute model path. */
  model: string;
  mmproj?: string;
  alias: string;
  host: string;
  /** Set only when the caller chose the port. */
  port?: number;
  ctxSize?: number;
  threads?: number;
  parallel?: number;
  nGpuLayers?: number;
  cacheTypeK?: (typeof KV_CACHE_TYPES)[number];
  cacheTypeV?: (typeof KV_CACHE_TYPES)[number];
  reportMemory: boolean;
  embeddings: boolean;
  /** The key, always a Secret. */
  apiKey?: SecretType<string>;
  /** `user` keys are part of the instance key (as a fingerprint); `generated` ones are not. */
  apiKeySource?: 'user' | 'generated';
  apiPrefix?: string;
  timeout?: number;
  extraArgs: string[];
  env: Record<string, string>;
  binaryPath: string;
  stopTimeoutMs: number;
  readyTimeoutMs: number;
  idleShutdownMs: number | null;
}

/** Defaults of the optional fields, in one place. */
export const LLAMA_CPP_DEFAULTS = {
  host: '127.0.0.1',
  binaryPath: 'llama-server',
  stopTimeoutMs: 5_000,
  readyTimeoutMs: 60_000,
  idleShutdownMs: 300_000,
} as const;

// Values of these fields may be credentials: an error message must never echo them.
const SENSITIVE_ROOTS = new Set(['apiKey', 'env']);

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  // Never String() an arbitrary object: its toString may be missing, throw, or print a credential.
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}

// One message naming every bad field, its value (unless sensitive) and the rule it broke.
function toBootSpecError(error: z.ZodError, input: unknown): InvalidBootSpecError {
  const issues = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: [...issue.path, key].join('.'),
          message: `unknown field "${key}": remove it or check its spelling`,
          received: undefined as unknown,
        }))
      : [
          {
            path: issue.path.map(String).join('.'),
            message: issue.message,
            received: SENSITIVE_ROOTS.has(String(issue.path[0]))
              ? '[redacted]'
              : valueAt(input, issue.path as PropertyKey[]),
          },
        ],
  );
  const text = issues
    .map(
      (i) =>
        `bootSpec.${i.path || '(root)'}: ${i.message}${i.received === undefined ? '' : ` (received ${describeValue(i.received)})`}`,
    )
    .join('; ');
  return new InvalidBootSpecError(`Invalid llama-cpp boot spec: ${text}.`, {
    backend: 'llama-cpp',
    details: {
      issues: issues.map((i) => ({ path: i.path, message: i.message, received: describeValue(i.received) })),
    },
  });
}

function modelBasename(modelPath: string): string {
  const base = path.basename(modelPath);
  const ext = path.extname(base);
  return ext && ext !== base ? base.slice(0, -ext.length) : base;
}

/** Options of `normalizeLlamaCppBootSpec`. */
export interface NormalizeBootSpecOptions {
  /** Model id the request asked for; the alias when the spec names none. */
  modelIdentity?: string;
  /** Directory relative model paths resolve against. @default process.cwd() */
  cwd?: string;
  /** Environment the default binary is looked up in (`SHIC_LLAMA_SERVER`, `PATH`, `XDG_CACHE_HOME`). @default process.env */
  env?: NodeJS.ProcessEnv;
}

// The literal "generate" asks for a random key, whether it came as a string or (from shic.yaml) as a Secret.
function asksForGeneratedKey(apiKey: string | SecretType<string> | undefined): boolean {
  return apiKey === 'generate' || (Secret.isInstance(apiKey) && apiKey.expose() === 'generate');
}

/**
 * Validates a boot spec and applies every default. A `"generate"` key (string or Secret) becomes a fresh random
 * key (each call).
 * @throws InvalidBootSpecError (`invalid_boot_spec`) naming each bad field and its value (secrets redacted).
 */
export function normalizeLlamaCppBootSpec(
  input: unknown,
  options: NormalizeBootSpecOptions = {},
): LlamaCppBootSpec {
  const parsed = llamaCppBootSpecSchema.safeParse(input ?? {});
  if (!parsed.success) throw toBootSpecError(parsed.error, input ?? {});
  const s = parsed.data;
  const model = path.resolve(options.cwd ?? process.cwd(), s.model);
  const generate = asksForGeneratedKey(s.apiKey);
  const apiKey = generate ? new Secret(randomBytes(24).toString('base64url')) : s.apiKey;
  return {
    model,
    ...(s.mmproj === undefined ? {} : { mmproj: path.resolve(options.cwd ?? process.cwd(), s.mmproj) }),
    alias: s.alias ?? options.modelIdentity ?? modelBasename(model),
    host: s.host ?? LLAMA_CPP_DEFAULTS.host,
    ...(s.port === undefined ? {} : { port: s.port }),
    ...(s.ctxSize === undefined ? {} : { ctxSize: s.ctxSize }),
    ...(s.threads === undefined ? {} : { threads: s.threads }),
    ...(s.parallel === undefined ? {} : { parallel: s.parallel }),
    ...(s.nGpuLayers === undefined ? {} : { nGpuLayers: s.nGpuLayers }),
    ...(s.cacheTypeK === undefined ? {} : { cacheTypeK: s.cacheTypeK }),
    ...(s.cacheTypeV === undefined ? {} : { cacheTypeV: s.cacheTypeV }),
    reportMemory: s.reportMemory ?? true,
    embeddings: s.embeddings ?? false,
    ...(apiKey === undefined
      ? {}
      : { apiKey: Secret.from(apiKey), apiKeySource: generate ? ('generated' as const) : ('user' as const) }),
    ...(s.apiPrefix === undefined || s.apiPrefix === '/'
      ? {}
      : { apiPrefix: s.apiPrefix.replace(/\/+$/, '') }),
    ...(s.timeout === undefined ? {} : { timeout: s.timeout }),
    extraArgs: [...(s.extraArgs ?? [])],
    env: { ...(s.env ?? {}) },
    binaryPath: s.binaryPath ?? findLlamaServer(options.env)?.binaryPath ?? LLAMA_CPP_DEFAULTS.binaryPath,
    stopTimeoutMs: s.stopTimeoutMs ?? LLAMA_CPP_DEFAULTS.stopTimeoutMs,
    readyTimeoutMs: s.readyTimeoutMs ?? LLAMA_CPP_DEFAULTS.readyTimeoutMs,
    idleShutdownMs: s.idleShutdownMs === undefined ? LLAMA_CPP_DEFAULTS.idleShutdownMs : s.idleShutdownMs,
  };
}
