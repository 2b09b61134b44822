import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { ModelReferences } from '../config/shic-config.js';

/** A deployment inferred from a model reference, as shic.yaml would write it. */
export interface InferredDeployment {
  backend: 'llama-cpp' | 'ollama' | 'mlx';
  start: 'on-demand';
  bootSpec?: Record<string, unknown>;
  backendOptions?: Record<string, unknown>;
  modelIdentity?: string;
  metadata: { modelReference: string };
}

const OLLAMA_NAME = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*:[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MLX_REPO = /^mlx-community\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

function realpathOrUndefined(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

// The real file, only if it exists and lies inside one of the allowed folders (symlinks and `..` resolved).
function allowedGguf(model: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const root = realpathOrUndefined(dir);
    if (!root) continue;
    const file = realpathOrUndefined(path.isAbsolute(model) ? model : path.join(dir, model));
    if (file?.startsWith(`${root}${path.sep}`)) return file;
  }
  return undefined;
}

/**
 * `infer_runtime(model)` of the design notes: maps a `model` no deployment serves to a deployment by its shape —
 * a `*.gguf` path inside one of `ggufDirs` (absolute, or relative to one of them) → llama-cpp; `name:tag` →
 * the attached Ollama; `mlx-community/<repo>` → mlx. Each kind only when enabled; anything else → undefined.
 * @param dirs `ggufDirs` resolved to absolute paths.
 */
export function inferDeployment(
  model: string,
  references: ModelReferences,
  dirs: readonly string[],
  ggufDefaults: Record<string, unknown> = {},
): InferredDeployment | undefined {
  if (!references.enabled) return undefined;
  const metadata = { modelReference: model };
  if (model.toLowerCase().endsWith('.gguf')) {
    const file = allowedGguf(model, dirs);
    return file
      ? { backend: 'llama-cpp', start: 'on-demand', bootSpec: { ...ggufDefaults, model: file }, metadata }
      : undefined;
  }
  if (references.ollama && OLLAMA_NAME.test(model)) {
    return {
      backend: 'ollama',
      start: 'on-demand',
      modelIdentity: model,
      backendOptions: { ...references.ollamaOptions },
      metadata,
    };
  }
  if (references.mlx && MLX_REPO.test(model)) {
    return { backend: 'mlx', start: 'on-demand', bootSpec: { model }, metadata };
  }
  return undefined;
}
