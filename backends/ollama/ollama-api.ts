import { type HttpProbeResponse, httpProbe, type Secret } from 'self-hosted-inference-core';

/** Where and how to reach one Ollama daemon. */
export interface OllamaConnection {
  /** Root URL without trailing slash, e.g. `http://127.0.0.1:11434`. */
  rootUrl: string;
  /** Headers on every request; Secret values are exposed only on the wire. */
  headers: Record<string, string | Secret<string>>;
}

/** Per-call options. */
export interface OllamaCallOptions {
  signal?: AbortSignal;
  /** Request timeout in ms. @default 2000 */
  timeoutMs?: number;
}

/** An answer that was not the expected 2xx, with Ollama's `{"error": "..."}` message when it sent one. */
export interface OllamaHttpFailure {
  status: number;
  message: string;
}

function call(
  conn: OllamaConnection,
  path: string,
  options: OllamaCallOptions,
  json?: unknown,
): Promise<HttpProbeResponse> {
  return httpProbe(`${conn.rootUrl}${path}`, {
    headers: conn.headers,
    ...(json === undefined ? {} : { json }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

/** Ollama's error text from a failed response, or the start of the body. */
export function ollamaFailure(response: HttpProbeResponse): OllamaHttpFailure {
  const error = response.json<{ error?: unknown }>()?.error;
  return {
    status: response.status,
    message: typeof error === 'string' ? error : response.body.slice(0, 200) || `HTTP ${response.status}`,
  };
}

/**
 * `GET /api/version`: the daemon's version string, or the failure when it answered but not with 200.
 * @throws for network errors, timeouts and aborts (the daemon is unreachable).
 */
export async function getOllamaVersion(
  conn: OllamaConnection,
  options: OllamaCallOptions = {},
): Promise<{ version: string } | OllamaHttpFailure> {
  const response = await call(conn, '/api/version', options);
  if (response.status !== 200) return ollamaFailure(response);
  const version = response.json<{ version?: unknown }>()?.version;
  return { version: typeof version === 'string' ? version : 'unknown' };
}

/** What `/api/show` tells about an installed model (fields newer daemons send; absent on older ones). */
export interface OllamaModelFacts {
  /** e.g. `["completion", "tools", "vision"]` or `["embedding"]`. */
  capabilities?: string[];
  /** Trained context length, from `model_info["<architecture>.context_length"]`. */
  contextLength?: number;
}

function modelFacts(body: { capabilities?: unknown; model_info?: Record<string, unknown> } | undefined) {
  const facts: OllamaModelFacts = {};
  if (Array.isArray(body?.capabilities)) {
    facts.capabilities = body.capabilities.filter((c): c is string => typeof c === 'string');
  }
  const info = body?.model_info ?? {};
  const length = info[`${String(info['general.architecture'])}.context_length`];
  if (typeof length === 'number' && Number.isInteger(length) && length > 0) facts.contextLength = length;
  return facts;
}

/**
 * `POST /api/show {model}`: whether the model is installed (`200`, with its capabilities and context length),
 * missing (`404`) or something else.
 * @throws for network errors, timeouts and aborts.
 */
export async function showOllamaModel(
  conn: OllamaConnection,
  model: string,
  options: OllamaCallOptions = {},
): Promise<
  | ({ state: 'installed' } & OllamaModelFacts)
  | { state: 'missing' }
  | ({ state: 'error' } & OllamaHttpFailure)
> {
  const response = await call(conn, '/api/show', options, { model });
  if (response.status === 200) return { state: 'installed', ...modelFacts(response.json()) };
  if (response.status === 404) return { state: 'missing' };
  return { state: 'error', ...ollamaFailure(response) };
}

/**
 * `GET /api/ps`: the names of the models loaded in memory right now.
 * @throws for network errors, timeouts and aborts.
 */
export async function listLoadedOllamaModels(
  conn: OllamaConnection,
  options: OllamaCallOptions = {},
): Promise<string[] | OllamaHttpFailure> {
  const response = await call(conn, '/api/ps', options);
  if (response.status !== 200) return ollamaFailure(response);
  const models = response.json<{ models?: unknown }>()?.models;
  if (!Array.isArray(models)) return [];
  return models.flatMap((m: { name?: unknown; model?: unknown }) =>
    [m?.name, m?.model].filter((n): n is string => typeof n === 'string'),
  );
}

/**
 * `POST /api/generate {model, keep_alive}` with no prompt: loads the model and sets how long it stays
 * resident (`keep_alive: 0` unloads it). Returns the failure, or undefined on success.
 * @throws for network errors, timeouts and aborts.
 */
export async function setOllamaKeepAlive(
  conn: OllamaConnection,
  model: string,
  keepAlive: string | number,
  options: OllamaCallOptions = {},
): Promise<OllamaHttpFailure | undefined> {
  const response = await call(conn, '/api/generate', options, {
    model,
    keep_alive: keepAlive,
    stream: false,
  });
  return response.status === 200 ? undefined : ollamaFailure(response);
}
