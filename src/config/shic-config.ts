import { z } from 'zod';
import { consumerManifestSchema } from '../contracts/consumer-manifest.js';
import { positiveMsSchema } from '../contracts/duration-ms.js';
import { planPolicySchema } from '../contracts/plan-policy.js';
import { metadataSchema, startupKindSchema } from '../contracts/vocabulary.js';
import { Secret } from '../secret/secret.js';
import { deviceSizesSchema, sizeOrDeviceSizesSchema } from './byte-size.js';

/** Lease policy of a deployment. */
export const deploymentLeaseSchema = z.strictObject({
  /** Lease time-to-live in ms when `ensure` gives none. @default 60000 */
  ttlMs: positiveMsSchema
    .default(60_000)
    .describe('Lease time-to-live in ms when `ensure` gives none; default 60000'),
});

const timeoutMs = positiveMsSchema;

/** The gateway's deadlines, in ms (guides/gateway.md). */
export const gatewayTimeoutsSchema = z.strictObject({
  /** Waiting for the model: queue, load and lease slot. @default 300000 */
  modelWaitMs: timeoutMs
    .default(300_000)
    .describe('Waiting for the model (queue, load, lease slot), in ms; default 300000'),
  /** From sending the request upstream to the response headers. @default 120000 */
  firstByteMs: timeoutMs
    .default(120_000)
    .describe("From sending the request upstream to the upstream's response headers, in ms; default 120000"),
  /** Longest gap between two chunks of the upstream's response body. @default 60000 */
  idleMs: timeoutMs
    .default(60_000)
    .describe("Longest gap between two chunks of the upstream's response body, in ms; default 60000"),
  /** The whole request, from arrival to the last byte. @default 1800000 */
  totalMs: timeoutMs
    .default(1_800_000)
    .describe('The whole request, from arrival to the last byte, in ms; default 1800000'),
});
export type GatewayTimeouts = z.output<typeof gatewayTimeoutsSchema>;

/** One named deployment: which backend, how to boot or attach it, and its policies. */
export const deploymentSchema = z.strictObject({
  /**
   * A built-in backend (`llama-cpp`, `mlx`, `ollama`, `openai-compatible`), a name from the top-level `backends:` section, an npm
   * package that exports a v1 backend (resolved from the config file's directory, then the current directory),
   * or a local module by path (`./backends/my-server.js`, relative to the config file).
   */
  backend: z
    .string()
    .min(1)
    .max(1024)
    .describe(
      "A built-in backend (`llama-cpp`, `mlx`, `ollama`, `openai-compatible`), a name from the top-level `backends:` section, an npm package that exports a v1 backend (resolved from the config file's directory, then the current directory), or a local module by path (`./backends/my-server.js`, relative to the config file)",
    ),
  /** `spawned` or `attach_existing_service`; @default the backend's own. */
  startupKind: startupKindSchema
    .optional()
    .describe("`spawned` or `attach_existing_service`; default the backend's own"),
  /**
   * Boot spec of a spawned backend (e.g. llama-cpp: `model`, `ctxSize`, `apiKey`, …); `model`, `binaryPath`
   * and `cwd` starting with `./` or `../` resolve against the config file's directory.
   */
  bootSpec: metadataSchema
    .optional()
    .describe(
      "Boot spec of a spawned backend (e.g. llama-cpp: `model`, `ctxSize`, `apiKey`, …); `model`, `binaryPath` and `cwd` starting with `./` or `../` resolve against the config file's directory",
    ),
  /** Backend options (attach spec of an attached backend, e.g. ollama: `rootUrl`; openai-compatible: `baseUrl`, `apiKey`). */
  backendOptions: metadataSchema
    .default({})
    .describe(
      'Backend options (attach spec of an attached backend, e.g. ollama: `rootUrl`; openai-compatible: `baseUrl`, `apiKey`)',
    ),
  /** Model to serve or attach to (required by ollama). */
  modelIdentity: z.string().min(1).optional().describe('Model to serve or attach to (required by ollama)'),
  /** Lease policy of the deployment. */
  lease: deploymentLeaseSchema.default({ ttlMs: 60_000 }).describe('Lease policy of the deployment'),
  /**
   * Stop the instance after this many ms without leases; `null` = never; absent = the backend's default.
   * Passed to the kernel as the request's `policy.idleShutdownMs`.
   */
  idleShutdownMs: planPolicySchema.shape.idleShutdownMs.describe(
    "Stop the instance after this many ms without leases; `null` = never; absent = the backend's default",
  ),
  /** Most leases held at once; further `ensure` calls get `capacity_exhausted` (or wait). @default unlimited */
  maxLeases: planPolicySchema.shape.maxLeases.describe(
    'Most leases held at once; further `ensure` calls get `capacity_exhausted` (or wait); default unlimited',
  ),
  /**
   * Restart after a crash (`mode: on_failure`) with exponential backoff, or fail at once (`mode: never`);
   * absent fields keep the backend's values (kernel defaults: on_failure, 5 restarts per 60000 ms, backoff
   * 250 ms ×2 up to 10000 ms, jitter 0.2). Passed as the request's `policy.restartPolicy`.
   */
  restartPolicy: planPolicySchema.shape.restartPolicy.describe(
    "Restart after a crash (`mode: on_failure`) with exponential backoff, or fail at once (`mode: never`); absent fields keep the backend's values (kernel defaults: on_failure, 5 restarts per 60000 ms, backoff 250 ms ×2 up to 10000 ms, jitter 0.2)",
  ),
  /** Never evicted to make room for another model (guides/residency.md). @default false */
  pin: z.boolean().optional().describe('Never evicted to make room for another model; default false'),
  /** Eviction order among idle instances: lower priorities go first, then least recently used. @default 0 */
  priority: z
    .number()
    .int()
    .min(-1000)
    .max(1000)
    .optional()
    .describe('Eviction order among idle instances: lower goes first, then least recently used; default 0'),
  /**
   * Memory the deployment needs, replacing the backend's estimate: one size (system memory) or sizes per device.
   * Backends without an estimate (mlx, most third-party ones) are charged this, or nothing when it is absent.
   */
  memory: sizeOrDeviceSizesSchema
    .optional()
    .describe(
      "Memory the deployment needs, replacing the backend's estimate: one size (system memory) or sizes per device (`system`, `gpu0`…)",
    ),
  /** `eager` starts at `shic up`; `on-demand` starts at the first ensure. @default 'eager' */
  start: z
    .enum(['eager', 'on-demand'])
    .default('eager')
    .describe('`eager` starts at `shic up`; `on-demand` starts at the first ensure; default `eager`'),
  /** Consumer manifest used by `shic ensure <deployment>`; @default an OpenAI chat consumer. */
  consumer: consumerManifestSchema
    .optional()
    .describe('Consumer manifest used by `shic ensure <deployment>`; default an OpenAI chat consumer'),
  /** Free-form metadata copied into the instance. */
  metadata: metadataSchema.default({}).describe('Free-form metadata copied into the instance'),
  /** Further names the gateway routes to this deployment (a request's `model`). */
  aliases: z
    .array(z.string().min(1).max(256))
    .default([])
    .describe("Further names the gateway routes to this deployment (a request's `model`)"),
  /** The `model` the gateway sends upstream; @default attached servers: the endpoint's model identity; spawned: the client's. */
  upstreamModel: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The `model` the gateway sends upstream; default for attached servers (Ollama, openai-compatible) the endpoint's model identity, for spawned ones the client's",
    ),
  /** Body fields the gateway sets on every request to this deployment (overriding the client's). */
  setParams: metadataSchema
    .default({})
    .describe("Body fields the gateway sets on every request to this deployment (overriding the client's)"),
  /** Body fields the gateway removes from every request before it goes upstream. */
  stripParams: z
    .array(z.string().min(1))
    .default([])
    .describe('Body fields the gateway removes from every request before it goes upstream'),
  /** Gateway deadlines for this deployment; absent fields keep `gateway.timeouts`. */
  timeouts: gatewayTimeoutsSchema
    .partial()
    .optional()
    .describe('Gateway deadlines for this deployment; absent fields keep `gateway.timeouts`'),
});
export type Deployment = z.output<typeof deploymentSchema>;

/** What may run at once, decided from memory (guides/residency.md). */
export const resourcesConfigSchema = z.strictObject({
  /** Admit, evict and queue by memory; `false` starts whatever is asked. @default true */
  enabled: z
    .boolean()
    .default(true)
    .describe('Admit, evict and queue by memory; `false` starts whatever is asked; default true'),
  /** Budgets per device (`system`, `gpu0`…); devices not named are detected (MemAvailable and the cgroup limit; nvidia-smi). */
  devices: deviceSizesSchema
    .default({})
    .describe(
      'Budgets per device (`system`, `gpu0`…); devices not named are detected (MemAvailable and the cgroup limit; nvidia-smi)',
    ),
  /** Headroom never handed out: one size for every device, or sizes per device. @default 0 */
  reserve: sizeOrDeviceSizesSchema
    .default(0)
    .describe('Headroom never handed out: one size for every device, or sizes per device; default 0'),
  /** Detect the devices not named in `devices`. @default true */
  detect: z.boolean().default(true).describe('Detect the devices not named in `devices`; default true'),
  /** How long a start may wait for memory held by leased or loading models, in ms. @default 120000 */
  queueTimeoutMs: timeoutMs
    .default(120_000)
    .describe('How long a start may wait for memory held by leased or loading models, in ms; default 120000'),
  /**
   * Fairness bound: once a start has waited this long for memory held under lease, the holders take no new leases
   * and are evicted when their current ones end, in ms. @default 10000
   */
  fairnessMs: timeoutMs
    .default(10_000)
    .describe(
      'Once a start has waited this long for memory held under lease, the holders take no new leases and are evicted when their current ones end, in ms; default 10000',
    ),
  /** After an eviction, how long to wait for a GPU's free memory to come back (nvidia-smi), in ms. @default 30000 */
  recoveryTimeoutMs: timeoutMs
    .default(30_000)
    .describe(
      "After an eviction, how long to wait for a GPU's free memory to come back (nvidia-smi), in ms; default 30000",
    ),
});
export type ResourcesConfig = z.output<typeof resourcesConfigSchema>;

/** Where the control API listens. */
export const controlConfigSchema = z.strictObject({
  /** Interface to bind; `shic` refuses anything but loopback unless run with `--allow-remote`. @default '127.0.0.1' */
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe(
      'Interface to bind; anything but loopback is refused unless `shic` runs with `--allow-remote`; default `127.0.0.1`',
    ),
  /** TCP port; 0 picks a free one (written to `stateDir`). @default 0 */
  port: z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(0)
    .describe('TCP port; 0 picks a free one (written to `stateDir`); default 0'),
  /** Largest accepted request body, in bytes. @default 1048576 */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .max(64 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Largest accepted request body, in bytes; default 1048576'),
});
export type ControlConfig = z.output<typeof controlConfigSchema>;

/** Defaults of the deployments a models folder creates (one llama-cpp deployment per model file). */
export const modelsFolderDefaultsSchema = z.strictObject({
  /** Boot spec fields every model gets (`ctxSize`, `parallel`, …); `model` is set per file. */
  bootSpec: metadataSchema
    .default({})
    .describe('Boot spec fields every model gets (`ctxSize`, `parallel`, …); `model` is set per file'),
  idleShutdownMs: planPolicySchema.shape.idleShutdownMs.describe(
    "Stop a model's server after this many ms without requests; default the backend's (300000)",
  ),
  maxLeases: planPolicySchema.shape.maxLeases.describe(
    'Most concurrent requests per model; default unlimited',
  ),
});

/**
 * Model references: a request's `model` that names no deployment is mapped by its shape to a new deployment
 * (guides/gateway.md). Off by default: a request must not make the daemon run arbitrary files.
 */
export const modelReferencesSchema = z.strictObject({
  /** Map unknown model names by shape. @default false */
  enabled: z.boolean().default(false).describe('Map unknown model names by shape; default false'),
  /** Folders a `*.gguf` reference may point into (relative to the config file); none = no GGUF references. */
  ggufDirs: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Folders a `*.gguf` reference may point into (relative to the config file); none = no GGUF references',
    ),
  /** Map `name:tag` to the attached Ollama. @default false */
  ollama: z.boolean().default(false).describe('Map `name:tag` to the attached Ollama; default false'),
  /** Options of those Ollama deployments (e.g. `rootUrl`). */
  ollamaOptions: metadataSchema.default({}).describe('Options of those Ollama deployments (e.g. `rootUrl`)'),
  /** Map `mlx-community/…` to `mlx_lm.server` (macOS on Apple silicon). @default false */
  mlx: z
    .boolean()
    .default(false)
    .describe('Map `mlx-community/…` to `mlx_lm.server` (macOS on Apple silicon); default false'),
});
export type ModelReferences = z.output<typeof modelReferencesSchema>;

/** The gateway: one OpenAI-compatible URL for every deployment (guides/gateway.md). */
export const gatewayConfigSchema = z.strictObject({
  /** Serve the gateway from `shic up`. @default true */
  enabled: z.boolean().default(true).describe('Serve the gateway from `shic up`; default true'),
  /** Interface to bind; beyond loopback it needs `apiKeys` and `shic up --allow-remote`. @default '127.0.0.1' */
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe(
      'Interface to bind; beyond loopback it needs `apiKeys` and `shic up --allow-remote`; default `127.0.0.1`',
    ),
  /** TCP port; 0 picks a free one (printed, and written to `<stateDir>/gateway.url`). @default 0 */
  port: z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(0)
    .describe('TCP port; 0 picks a free one (printed, and written to `<stateDir>/gateway.url`); default 0'),
  /** Keys clients send as `Authorization: Bearer <key>`; none = no auth (loopback only). */
  apiKeys: z
    .array(z.string().min(8, 'must be at least 8 characters'))
    .default([])
    // Secrets from here on: no log, snapshot or error can print a key.
    .transform((keys) => keys.map((key) => new Secret(key)))
    .describe(
      'Keys clients send as `Authorization: Bearer <key>` (write them as environment references); none = no auth (loopback only)',
    ),
  /** A folder whose `*.gguf` files each become a llama-cpp deployment named after the file; relative to the config file. */
  modelsDir: z
    .string()
    .min(1)
    .optional()
    .describe(
      'A folder whose `*.gguf` files each become a llama-cpp deployment named after the file; relative to the config file',
    ),
  /** Defaults of the models-folder deployments. */
  modelDefaults: modelsFolderDefaultsSchema
    .default({ bootSpec: {} })
    .describe('Defaults of the models-folder deployments'),
  /** Map a `model` no deployment has to one by its shape (off by default). */
  modelReferences: modelReferencesSchema
    .default({ enabled: false, ggufDirs: [], ollama: false, ollamaOptions: {}, mlx: false })
    .describe('Map a `model` no deployment has to one by its shape (off by default)'),
  /** Most requests waiting for one deployment (load or lease slot); more get 429. @default 64 */
  maxQueue: z
    .number()
    .int()
    .nonnegative()
    .max(1_000_000)
    .default(64)
    .describe('Most requests waiting for one deployment (load or lease slot); more get 429; default 64'),
  /**
   * Tell streaming clients that wait for a model to load, in SSE comments (`: loading …`), once the wait passes
   * 250 ms; the response is then committed to 200 and a failure arrives as an SSE error event. @default false
   */
  streamLoadProgress: z
    .boolean()
    .default(false)
    .describe(
      'Tell streaming clients that wait for a model to load, in SSE comments, once the wait passes 250 ms; default false',
    ),
  /** Lease TTL of a request, renewed while it streams, in ms. @default 30000 */
  leaseTtlMs: timeoutMs
    .min(1_000)
    .default(30_000)
    .describe('Lease TTL of a request, renewed while it streams, in ms; default 30000'),
  /** Largest request body, in bytes. @default 33554432 */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .max(1024 * 1024 * 1024)
    .default(32 * 1024 * 1024)
    .describe('Largest request body, in bytes; default 33554432 (32 MiB)'),
  /** Deadlines of every request; a deployment's `timeouts` override them. */
  timeouts: gatewayTimeoutsSchema
    .default({ modelWaitMs: 300_000, firstByteMs: 120_000, idleMs: 60_000, totalMs: 1_800_000 })
    .describe("Deadlines of every request; a deployment's `timeouts` override them"),
  /** How many finished requests `shic requests` can show. @default 1000 */
  recentRequests: z
    .number()
    .int()
    .positive()
    .max(1_000_000)
    .default(1000)
    .describe('How many finished requests `shic requests` can show; default 1000'),
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;

/** A backend package with the options its factory is called with (`backends:` in shic.yaml). */
export const backendPackageSchema = z.strictObject({
  /**
   * What to load: a built-in (`llama-cpp`, `mlx`, `ollama`, `openai-compatible`), an npm package name (resolved from the config
   * file's directory, then the current directory), or a local module by path relative to the config file.
   */
  package: z
    .string()
    .min(1)
    .max(1024)
    .describe(
      "What to load: a built-in (`llama-cpp`, `mlx`, `ollama`, `openai-compatible`), an npm package name (resolved from the config file's directory, then the current directory), or a local module by path relative to the config file",
    ),
  /**
   * Passed to the package's factory (`createBackend(options)` or its default export); the package's business.
   * Environment references (`$` + `{NAME}`) are interpolated and credential-named keys become Secrets.
   */
  options: metadataSchema
    .default({})
    .describe(
      "Passed to the package's factory (`createBackend(options)` or its default export); environment references and credential keys work as elsewhere",
    ),
});
export type BackendPackage = z.output<typeof backendPackageSchema>;

/** Durable state: adoption across daemon restarts and the request records' retention (guides/durable-state.md). */
export const stateConfigSchema = z.strictObject({
  /**
   * Keep model servers running across a daemon restart: `shic restart` (or `shic up` stopped with `--keep`) hands
   * them over, and after a crash the watchdog waits `adoptGraceMs` for the next `shic up` to adopt them. @default false
   */
  adopt: z
    .boolean()
    .default(false)
    .describe(
      'Keep model servers running across a daemon restart and adopt them at the next `shic up`; default false',
    ),
  /** How long servers of a daemon that died wait for a successor before its watchdog kills them, in ms. @default 60000 */
  adoptGraceMs: timeoutMs
    .default(60_000)
    .describe(
      'How long servers of a daemon that died wait for a successor before they are killed, in ms; default 60000',
    ),
  /** Gateway request records kept in the store: at most this many. @default 100000 */
  requestsMaxCount: z
    .number()
    .int()
    .positive()
    .default(100_000)
    .describe('Gateway request records kept in the store: at most this many; default 100000'),
  /** Gateway request records older than this are deleted, in ms. @default 604800000 (7 days) */
  requestsMaxAgeMs: timeoutMs
    .default(604_800_000)
    .describe('Gateway request records older than this are deleted, in ms; default 604800000 (7 days)'),
});
export type StateConfig = z.output<typeof stateConfigSchema>;

/** The `shic.yaml` file (guides/cli.md). */
export const shicConfigSchema = z
  .strictObject({
    /** JSON Schema reference for editors; ignored. */
    $schema: z.string().optional().describe('JSON Schema reference for editors; ignored'),
    /** State directory (token, address, process records); relative to the config file. @default `$SHIC_STATE_DIR` or `~/.local/state/shic` */
    stateDir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'State directory (token, address, process records); relative to the config file; default `$SHIC_STATE_DIR` or `~/.local/state/shic`',
      ),
    /** pino level of the daemon's logs. @default 'info' */
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .optional()
      .describe("pino level of the daemon's logs; default `info`"),
    /** Where the control API listens. */
    control: controlConfigSchema
      .default({ host: '127.0.0.1', port: 0, bodyLimitBytes: 1024 * 1024 })
      .describe('Where the control API listens'),
    /** Memory budgets, reserve and queue deadline of residency. */
    resources: resourcesConfigSchema
      .default(resourcesConfigSchema.parse({}))
      .describe('Memory budgets, reserve and queue deadline (guides/residency.md)'),
    /** Adoption across restarts and request-record retention. */
    state: stateConfigSchema
      .default(stateConfigSchema.parse({}))
      .describe('Adoption across daemon restarts and request-record retention (guides/durable-state.md)'),
    /** The OpenAI-compatible gateway `shic up` serves. */
    gateway: gatewayConfigSchema
      .default(gatewayConfigSchema.parse({}))
      .describe('The OpenAI-compatible gateway `shic up` serves'),
    /** Backend packages with factory options, by the name deployments use in `backend:`. */
    backends: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'backend names are letters, digits, . _ -'),
        backendPackageSchema,
      )
      .default({})
      .describe('Backend packages with factory options, by the name deployments use in `backend:`'),
    /** Deployments by name (letters, digits, `.`, `_`, `-`). */
    deployments: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'deployment names are letters, digits, . _ -'),
        deploymentSchema,
      )
      .default({})
      .describe('Deployments by name (letters, digits, `.`, `_`, `-`)'),
  })
  .superRefine((config, ctx) => {
    // A gateway `model` must name one deployment: an alias may not repeat a name or another alias.
    const owner = new Map(Object.keys(config.deployments).map((name) => [name, name]));
    for (const [name, deployment] of Object.entries(config.deployments)) {
      for (const [i, alias] of deployment.aliases.entries()) {
        const taken = owner.get(alias);
        if (taken !== undefined && taken !== name) {
          ctx.addIssue({
            code: 'custom',
            path: ['deployments', name, 'aliases', i],
            message: `"${alias}" already names deployment "${taken}": each gateway model name must be unique`,
          });
        } else owner.set(alias, name);
      }
    }
  })
  .describe('shic.yaml — deployments, control API and gateway of the shic daemon');
export type ShicConfig = z.output<typeof shicConfigSchema>;
export type ShicConfigInput = z.input<typeof shicConfigSchema>;

/** The JSON Schema (draft 2020-12) of `shic.yaml`, for editor completion (`shic config schema`). */
export function shicConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(shicConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}
