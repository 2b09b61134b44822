import { defineContract, type InstanceSpec, InvalidBootSpecError } from 'self-hosted-inference-core';
import { z } from 'zod';

const ms = z.number().int().positive().max(2_147_483_647);

/** Boot spec of an `mlx_lm.server` instance (`spec.bootSpec`, over the backend's defaults). */
export const mlxBootSpecSchema = z.strictObject({
  /** A local model directory or a Hugging Face repo id, e.g. `mlx-community/Qwen2.5-0.5B-Instruct-4bit`. */
  model: z.string().min(1).optional(),
  /** Interface to bind. @default 127.0.0.1 */
  host: z.string().min(1).optional(),
  /** TCP port; unset = a free port from the kernel. */
  port: z.number().int().min(1).max(65_535).optional(),
  /** More `mlx_lm.server` flags, appended after `--model --host --port` (which they must not repeat). */
  extraArgs: z.array(z.string()).optional(),
  /** The `mlx_lm.server` executable. @default "mlx_lm.server" from PATH */
  binaryPath: z.string().min(1).optional(),
  /** A Python with mlx-lm installed; runs `<pythonPath> -m mlx_lm.server`. */
  pythonPath: z.string().min(1).optional(),
  /**
   * A launcher command prefix, for wrappers and tests: `[program, ...args]`, to which the server flags are
   * appended, e.g. `[process.execPath, 'stand-in.mjs']` or `['uv', 'run', 'mlx_lm.server']`.
   */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Environment added to the kernel's. */
  env: z.record(z.string(), z.string()).optional(),
  /** Working directory of the process. */
  cwd: z.string().min(1).optional(),
  /** Run even where MLX does not (anything but macOS on Apple silicon). For tests and experts. @default false */
  allowUnsupportedPlatform: z.boolean().optional(),
  /** Readiness deadline in ms (a first run may download the model). @default 600000 */
  readyTimeoutMs: ms.optional(),
  /** Interval of the 1-token functional check while ready, in ms. @default 30000 */
  functionalHealthIntervalMs: ms.optional(),
  /** Stop after this long without a lease, in ms; `null` = never. @default 300000 */
  idleShutdownMs: ms.nullable().optional(),
});
export type MlxBootSpecInput = z.input<typeof mlxBootSpecSchema>;

/** Parses MLX boot spec fields; failures are `invalid_boot_spec` errors naming every bad field. */
export const mlxBootSpecContract = defineContract('MlxBootSpec', 'invalid_boot_spec', mlxBootSpecSchema);

/** A validated MLX boot spec with defaults applied. */
export interface MlxBootSpec {
  model: string;
  host: string;
  port?: number;
  extraArgs: string[];
  binaryPath?: string;
  pythonPath?: string;
  command?: string[];
  env: Record<string, string>;
  cwd?: string;
  allowUnsupportedPlatform: boolean;
  readyTimeoutMs: number;
  functionalHealthIntervalMs?: number;
  idleShutdownMs?: number | null;
}

const RESERVED_FLAGS = ['--model', '--host', '--port'];

function fail(message: string, field: string, received?: unknown): never {
  throw new InvalidBootSpecError(message, { backend: 'mlx', details: { field, received } });
}

/**
 * Validates and normalizes the boot spec: `spec.bootSpec` over the backend's defaults; the model from
 * `bootSpec.model`, else `spec.modelIdentity`.
 * @throws ContractValidationError (`invalid_boot_spec`) naming every bad field.
 * @throws InvalidBootSpecError (`invalid_boot_spec`) without a model, with more than one of
 *   `binaryPath`/`pythonPath`/`command`, or with `extraArgs` repeating `--model`, `--host` or `--port`.
 */
export function parseMlxBootSpec(spec: InstanceSpec, defaults: MlxBootSpecInput = {}): MlxBootSpec {
  const boot = mlxBootSpecContract.parse({ ...defaults, ...spec.bootSpec });
  const model = boot.model ?? spec.modelIdentity;
  if (!model) {
    fail(
      'The mlx backend needs a model: set bootSpec.model (a local path or a Hugging Face repo id such as "mlx-community/Qwen2.5-0.5B-Instruct-4bit") or modelIdentity.',
      'model',
    );
  }
  const launchers = (['binaryPath', 'pythonPath', 'command'] as const).filter((k) => boot[k] !== undefined);
  if (launchers.length > 1) {
    fail(
      `Set only one of binaryPath, pythonPath and command (got ${launchers.join(' and ')}).`,
      launchers[1]!,
    );
  }
  const extraArgs = boot.extraArgs ?? [];
  const reserved = extraArgs.find((a) => RESERVED_FLAGS.includes(a.split('=')[0]!));
  if (reserved) {
    fail(
      `extraArgs must not contain ${reserved}: set it with the boot spec field "${reserved.slice(2).split('=')[0]}" instead.`,
      'extraArgs',
      reserved,
    );
  }
  return {
    model,
    host: boot.host ?? '127.0.0.1',
    ...(boot.port === undefined ? {} : { port: boot.port }),
    extraArgs,
    ...(boot.binaryPath === undefined ? {} : { binaryPath: boot.binaryPath }),
    ...(boot.pythonPath === undefined ? {} : { pythonPath: boot.pythonPath }),
    ...(boot.command === undefined ? {} : { command: boot.command }),
    env: boot.env ?? {},
    ...(boot.cwd === undefined ? {} : { cwd: boot.cwd }),
    allowUnsupportedPlatform: boot.allowUnsupportedPlatform ?? false,
    readyTimeoutMs: boot.readyTimeoutMs ?? 600_000,
    ...(boot.functionalHealthIntervalMs === undefined
      ? {}
      : { functionalHealthIntervalMs: boot.functionalHealthIntervalMs }),
    ...(boot.idleShutdownMs === undefined ? {} : { idleShutdownMs: boot.idleShutdownMs }),
  };
}
