import { z } from 'zod';
import { consumerManifestSchema } from '../contracts/consumer-manifest.js';
import { planPolicySchema } from '../contracts/plan-policy.js';
import { metadataSchema, startupKindSchema } from '../contracts/vocabulary.js';

/** Lease policy of a deployment. */
export const deploymentLeaseSchema = z.strictObject({
  /** Lease time-to-live in ms when `ensure` gives none. @default 60000 */
  ttlMs: z
    .number()
    .int()
    .positive()
    .max(2_147_483_647)
    .default(60_000)
    .describe('Lease time-to-live in ms when `ensure` gives none; default 60000'),
});

/** One named deployment: which backend, how to boot or attach it, and its policies. */
export const deploymentSchema = z.strictObject({
  /**
   * A built-in backend (`llama-cpp`, `mlx`, `ollama`), a name from the top-level `backends:` section, an npm
   * package that exports a v1 backend (resolved from the config file's directory, then the current directory),
   * or a local module by path (`./backends/my-server.js`, relative to the config file).
   */
  backend: z
    .string()
    .min(1)
    .max(1024)
    .describe(
      "A built-in backend (`llama-cpp`, `mlx`, `ollama`), a name from the top-level `backends:` section, an npm package that exports a v1 backend (resolved from the config file's directory, then the current directory), or a local module by path (`./backends/my-server.js`, relative to the config file)",
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
  /** Backend options (attach spec of an attached backend, e.g. ollama: `host`). */
  backendOptions: metadataSchema
    .default({})
    .describe('Backend options (attach spec of an attached backend, e.g. ollama: `host`)'),
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
});
export type Deployment = z.output<typeof deploymentSchema>;

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

/** A backend package with the options its factory is called with (`backends:` in shic.yaml). */
export const backendPackageSchema = z.strictObject({
  /**
   * What to load: a built-in (`llama-cpp`, `mlx`, `ollama`), an npm package name (resolved from the config
   * file's directory, then the current directory), or a local module by path relative to the config file.
   */
  package: z
    .string()
    .min(1)
    .max(1024)
    .describe(
      "What to load: a built-in (`llama-cpp`, `mlx`, `ollama`), an npm package name (resolved from the config file's directory, then the current directory), or a local module by path relative to the config file",
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
  .describe('shic.yaml — deployments and control API of the shic daemon');
export type ShicConfig = z.output<typeof shicConfigSchema>;
export type ShicConfigInput = z.input<typeof shicConfigSchema>;

/** The JSON Schema (draft 2020-12) of `shic.yaml`, for editor completion (`shic config schema`). */
export function shicConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(shicConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}
