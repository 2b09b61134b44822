import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { execa } from 'execa';
import {
  BinaryNotFoundError,
  KernelError,
  ModelNotFoundError,
  resolveCommand,
  type StartupPlan,
} from 'self-hosted-inference-core';
import type { MlxBackendState } from './mlx-target.js';

// "org/name" is a Hugging Face repo id; only explicit paths ("/", "./", "../", "~/") must exist locally.
function localModelPath(model: string, cwd: string): string | undefined {
  if (model.startsWith('~/')) return resolve(homedir(), model.slice(2));
  if (model.startsWith('/') || model.startsWith('./') || model.startsWith('../')) return resolve(cwd, model);
  return undefined;
}

/**
 * Checks before spawning: the launcher program exists and is executable; with `pythonPath`, that Python can
 * import `mlx_lm`; a model given as a local path exists.
 * @throws BinaryNotFoundError (`binary_not_found`) naming the program and how to install mlx-lm.
 * @throws ModelNotFoundError (`model_not_found`) naming a missing local model directory.
 */
export async function preflightMlx(plan: StartupPlan, signal?: AbortSignal): Promise<void> {
  const transport = plan.transport!;
  const state = plan.backendState as unknown as MlxBackendState;
  const env = { ...process.env, ...transport.env };
  const cwd = transport.cwd ?? process.cwd();
  try {
    resolveCommand(transport.command, env, cwd);
  } catch (error) {
    if (!KernelError.isInstance(error)) throw error;
    throw new BinaryNotFoundError(
      `${error.message} mlx_lm.server comes with the Python package mlx-lm: \`pip install mlx-lm\` (or set bootSpec.binaryPath / pythonPath).`,
      { backend: 'mlx', ...(error.path ? { path: error.path } : {}), details: error.details, cause: error },
    );
  }
  if (state.launcher === 'python') {
    const check = await execa(transport.command, ['-c', 'import mlx_lm'], {
      env,
      cwd,
      reject: false,
      timeout: 60_000,
      ...(signal ? { cancelSignal: signal } : {}),
    });
    if (check.exitCode !== 0) {
      throw new BinaryNotFoundError(
        `${transport.command} cannot import mlx_lm (${String(check.stderr).split('\n').at(-1) || `exit ${check.exitCode}`}). Install it with \`${transport.command} -m pip install mlx-lm\`.`,
        { backend: 'mlx', path: transport.command },
      );
    }
  }
  const modelPath = localModelPath(state.model, cwd);
  if (modelPath && !existsSync(modelPath)) {
    throw new ModelNotFoundError(
      `MLX model directory ${modelPath} does not exist. Pass an existing directory, or a Hugging Face repo id such as "mlx-community/Qwen2.5-0.5B-Instruct-4bit".`,
      { backend: 'mlx', path: modelPath, details: { model: state.model } },
    );
  }
}
