import type { LlamaCppBootSpec } from './boot-spec.js';

/**
 * The llama-server argument list for a normalized boot spec: `--model --alias --host --port` always; `--mmproj --ctx-size
 * --threads --parallel --n-gpu-layers --cache-type-k --cache-type-v --embeddings --api-prefix --timeout` only when set;
 * `--log-verbosity 4` unless `reportMemory` is false (llama-server logs its buffer sizes only then); then `extraArgs`.
 *
 * The API key is deliberately not an argument: argv is world-readable (`ps`, `/proc/<pid>/cmdline`), logged by
 * the kernel at debug and stored in its process records. It goes to llama-server through `LLAMA_API_KEY`, the
 * environment variable llama-server reads for `--api-key` (see `buildLlamaServerEnv`).
 * @param port The port to bind (the spec's, or the one the kernel allocated).
 */
export function buildLlamaServerArgs(spec: LlamaCppBootSpec, port: number): string[] {
  const args = ['--model', spec.model, '--alias', spec.alias, '--host', spec.host, '--port', String(port)];
  if (spec.mmproj !== undefined) args.push('--mmproj', spec.mmproj);
  if (spec.ctxSize !== undefined) args.push('--ctx-size', String(spec.ctxSize));
  if (spec.threads !== undefined) args.push('--threads', String(spec.threads));
  if (spec.parallel !== undefined) args.push('--parallel', String(spec.parallel));
  if (spec.nGpuLayers !== undefined) args.push('--n-gpu-layers', String(spec.nGpuLayers));
  if (spec.cacheTypeK !== undefined) args.push('--cache-type-k', spec.cacheTypeK);
  if (spec.cacheTypeV !== undefined) args.push('--cache-type-v', spec.cacheTypeV);
  if (spec.embeddings) args.push('--embeddings');
  if (spec.apiPrefix !== undefined) args.push('--api-prefix', spec.apiPrefix);
  if (spec.timeout !== undefined) args.push('--timeout', String(spec.timeout));
  // Buffer sizes are logged only at verbosity 4; extraArgs come after, so a user's own `-lv` still wins.
  if (spec.reportMemory) args.push('--log-verbosity', '4');
  return [...args, ...spec.extraArgs];
}
