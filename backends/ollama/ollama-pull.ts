import { exposeSecret } from 'self-hosted-inference-core';
import { request } from 'undici';
import type { OllamaConnection } from './ollama-api.js';

/** One line of `POST /api/pull` progress, as Ollama streams it. */
export interface OllamaPullStatus {
  status: string;
  digest?: string;
  /** Bytes of this layer. */
  total?: number;
  /** Bytes of this layer downloaded so far. */
  completed?: number;
}

/** Progress across all layers seen so far. */
export interface OllamaPullProgress {
  status: string;
  /** 0–100 over all layers seen so far; absent before the first sized layer. */
  percent?: number;
}

/** Options of `pullOllamaModel`. */
export interface PullOllamaModelOptions {
  onProgress?(progress: OllamaPullProgress): void;
  signal?: AbortSignal;
  /** Give up when no progress line arrives for this long, in ms. @default 300000 */
  stallTimeoutMs?: number;
}

// Ollama reports per layer; a single percentage needs the sums over every layer seen so far.
function aggregate(layers: Map<string, { total: number; completed: number }>): number | undefined {
  let total = 0;
  let completed = 0;
  for (const layer of layers.values()) {
    total += layer.total;
    completed += Math.min(layer.completed, layer.total);
  }
  return total > 0 ? Math.floor((completed / total) * 1000) / 10 : undefined;
}

/**
 * Asks the daemon to pull a model (`POST /api/pull {model, stream: true}`) and follows its NDJSON progress
 * until `{"status":"success"}`.
 * @throws Error with Ollama's own message when the stream reports `{"error": ...}`, the request fails with an
 *   HTTP error, or the stream ends without success; network errors, stalls and aborts are thrown as they come.
 */
export async function pullOllamaModel(
  conn: OllamaConnection,
  model: string,
  options: PullOllamaModelOptions = {},
): Promise<void> {
  const stallTimeoutMs = options.stallTimeoutMs ?? 300_000;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(conn.headers)) headers[name] = exposeSecret(value);
  const response = await request(`${conn.rootUrl}/api/pull`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model, stream: true }),
    ...(options.signal ? { signal: options.signal } : {}),
    headersTimeout: stallTimeoutMs,
    bodyTimeout: stallTimeoutMs,
  });
  if (response.statusCode !== 200) {
    const text = await response.body.text();
    let message = text.slice(0, 200);
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {}
    throw new Error(`pull of "${model}" failed with HTTP ${response.statusCode}: ${message}`);
  }
  const layers = new Map<string, { total: number; completed: number }>();
  let buffered = '';
  let succeeded = false;
  // Layers arrive one after another, so the total grows as they appear: never report going backwards.
  let shown: number | undefined;
  const handle = (line: string): void => {
    if (line.trim() === '') return;
    let event: OllamaPullStatus & { error?: string };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof event.error === 'string') throw new Error(`pull of "${model}" failed: ${event.error}`);
    if (event.digest && typeof event.total === 'number') {
      layers.set(event.digest, { total: event.total, completed: event.completed ?? 0 });
    }
    if (event.status === 'success') succeeded = true;
    const current = succeeded ? 100 : aggregate(layers);
    if (current !== undefined) shown = Math.max(shown ?? 0, current);
    const percent = shown;
    options.onProgress?.({ status: event.status ?? '', ...(percent === undefined ? {} : { percent }) });
  };
  for await (const chunk of response.body) {
    buffered += (chunk as Buffer).toString('utf8');
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      handle(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  }
  handle(buffered);
  if (!succeeded) throw new Error(`pull of "${model}" ended without "success"`);
}
