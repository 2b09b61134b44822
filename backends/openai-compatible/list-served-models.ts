import { errorMessage, httpProbe, isConnectionRefused, type Secret } from 'self-hosted-inference-core';

/** What `GET <baseUrl>/models` said: the ids served, an HTTP failure, or unreachable. */
export type ServedModels =
  | { state: 'listed'; ids: string[] }
  | { state: 'http_error'; status: number; message: string }
  | { state: 'unreachable'; refused: boolean; message: string };

/** `GET <baseUrl>/models` (OpenAI's list shape `{ data: [{ id }] }`); never throws except on abort. */
export async function listServedModels(
  baseUrl: string,
  headers: Record<string, string | Secret<string>>,
  signal: AbortSignal,
): Promise<ServedModels> {
  try {
    const response = await httpProbe(`${baseUrl}/models`, { headers, signal });
    if (response.status !== 200) {
      const error = response.json<{ error?: { message?: unknown } | string }>()?.error;
      const message =
        typeof error === 'string' ? error : typeof error?.message === 'string' ? error.message : '';
      return {
        state: 'http_error',
        status: response.status,
        message: message || response.body.slice(0, 200),
      };
    }
    const data = response.json<{ data?: unknown }>()?.data;
    const ids = Array.isArray(data)
      ? data.map((m) => (m as { id?: unknown })?.id).filter((id): id is string => typeof id === 'string')
      : [];
    return { state: 'listed', ids };
  } catch (error) {
    if (signal.aborted) throw error;
    return { state: 'unreachable', refused: isConnectionRefused(error), message: errorMessage(error) };
  }
}
