import { Agent, type Dispatcher, request } from 'undici';
import { DaemonUnreachableError } from '../errors/error-catalog.js';
import { KernelError } from '../errors/kernel-error.js';
import { readControlFiles } from './state-files.js';

/** One Server-Sent Event as the client receives it. */
export interface ControlSseEvent {
  event: string;
  data: unknown;
}

/** Options of {@link ControlClient}. */
export interface ControlClientOptions {
  /** Base URL of the control API. */
  url: string;
  token: string;
  /** @default a keep-alive undici Agent owned (and closed) by the client */
  dispatcher?: Dispatcher;
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
]);

/** Parses an SSE byte stream into events; comments and unknown fields are skipped. */
export async function* parseSse(body: AsyncIterable<Buffer | string>): AsyncGenerator<ControlSseEvent> {
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += chunk.toString();
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
      if (line === '') {
        if (data.length > 0) yield { event, data: JSON.parse(data.join('\n')) };
        event = 'message';
        data = [];
      } else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
  }
}

/**
 * Client of the `shic` control API, used by the CLI commands. Error responses become `KernelError`s with
 * the server's `code` (and `details.status`); a daemon that does not answer is `daemon_unreachable`.
 */
export class ControlClient {
  readonly url: string;
  readonly #token: string;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;

  constructor(options: ControlClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
  }

  /**
   * A client for the daemon whose files are in `stateDir`.
   * @throws DaemonUnreachableError when no daemon wrote its address there.
   */
  static async fromStateDir(stateDir: string): Promise<ControlClient> {
    const { address, token } = await readControlFiles(stateDir);
    return new ControlClient({ url: address.url, token });
  }

  /** Sends one request and returns the parsed JSON (or text) body. @throws KernelError */
  async call<T = Record<string, unknown>>(
    method: Dispatcher.HttpMethod,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const response = await this.#send(method, path, body, signal);
    const text = await response.body.text();
    const isJson = String(response.headers['content-type'] ?? '').includes('application/json');
    const parsed = isJson && text ? JSON.parse(text) : text;
    if (response.statusCode >= 400) throw this.#toError(response.statusCode, parsed);
    return parsed as T;
  }

  /** Streams the SSE events of a route until `signal` aborts or the server ends the stream. */
  async *stream(path: string, signal?: AbortSignal): AsyncGenerator<ControlSseEvent> {
    const response = await this.#send('GET', path, undefined, signal);
    if (response.statusCode >= 400) {
      const text = await response.body.text();
      throw this.#toError(response.statusCode, text ? JSON.parse(text) : {});
    }
    try {
      yield* parseSse(response.body);
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }

  /** Closes the connection pool this client created. */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  async #send(method: Dispatcher.HttpMethod, path: string, body: unknown, signal: AbortSignal | undefined) {
    try {
      return await request(`${this.url}${path}`, {
        method,
        dispatcher: this.#dispatcher,
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (CONNECTION_ERRORS.has(code)) {
        throw new DaemonUnreachableError(
          `The shic daemon at ${this.url} does not answer (${code}). Is \`shic up\` still running?`,
          { cause: error, details: { url: this.url } },
        );
      }
      throw error;
    }
  }

  #toError(status: number, body: unknown): KernelError {
    const error = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })
      ?.error;
    return new KernelError(
      error?.code ?? 'control_api_error',
      error?.message ?? `The control API answered HTTP ${status}.`,
      { details: { ...error?.details, status } },
    );
  }
}
