import { errorMessage, httpProbe } from 'self-hosted-inference-core';

/** What one 1-token completion showed. */
export type MlxCompletionProbe =
  | { ok: true; status: number }
  | { ok: false; status?: number; detail: string };

/**
 * Asks for one token (`POST /v1/completions {model, prompt, max_tokens: 1}`): the only reliable sign that
 * `mlx_lm.server` can serve, since its `/health` is a constant 200 and `/v1/models` lists the Hugging Face
 * cache rather than what is loaded. Never throws.
 * @param origin Server origin without `/v1`, e.g. `http://127.0.0.1:8080`.
 * @param timeoutMs Request timeout in ms. @default 30000
 */
export async function probeMlxCompletion(
  origin: string,
  model: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<MlxCompletionProbe> {
  try {
    const response = await httpProbe(`${origin}/v1/completions`, {
      json: { model, prompt: 'Hello', max_tokens: 1, temperature: 0, stream: false },
      timeoutMs: options.timeoutMs ?? 30_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const choices = response.json<{ choices?: unknown }>()?.choices;
    if (response.status === 200 && Array.isArray(choices) && choices.length > 0) {
      return { ok: true, status: 200 };
    }
    return {
      ok: false,
      status: response.status,
      detail: `1-token completion answered HTTP ${response.status}: ${response.body.slice(0, 200)}`,
    };
  } catch (error) {
    return { ok: false, detail: `1-token completion failed: ${errorMessage(error)}` };
  }
}
