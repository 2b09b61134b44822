import type { LlamaCppBootSpec } from './boot-spec.js';

/** The environment variable llama-server reads for `--api-key`. */
export const LLAMA_API_KEY_ENV = 'LLAMA_API_KEY';

/**
 * The environment added to llama-server's: the spec's `env`, plus `LLAMA_API_KEY` when a key is set (it
 * overrides a `LLAMA_API_KEY` in `env`). This is the one place the key is exposed, for the child process only.
 */
export function buildLlamaServerEnv(spec: LlamaCppBootSpec): Record<string, string> {
  const env = { ...spec.env };
  if (spec.apiKey !== undefined) env[LLAMA_API_KEY_ENV] = spec.apiKey.expose();
  return env;
}

/**
 * Inherited variables llama-server would read as flags (`LLAMA_ARG_*`, `LLAMA_API_KEY`) that the spec did not
 * set itself: removed from the child's environment so the boot spec alone decides how the server runs.
 */
export function inheritedLlamaServerVars(
  spec: LlamaCppBootSpec,
  inherited: NodeJS.ProcessEnv = process.env,
): string[] {
  const own = buildLlamaServerEnv(spec);
  return Object.keys(inherited).filter(
    (name) => (name.startsWith('LLAMA_ARG_') || name === LLAMA_API_KEY_ENV) && !(name in own),
  );
}
