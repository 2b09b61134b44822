/** Token counts a response reported (OpenAI `usage`, or llama-server's `timings`), else counted chunks. */
export interface TappedUsage {
  promptTokens: number | null;
  completionTokens: number | null;
}

const JSON_CAPTURE_LIMIT = 1024 * 1024;

function numberOr(value: unknown, fallback: number | null): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/**
 * Watches the chunks of an upstream response body as they are relayed: when the first byte passed and what the
 * answer says about tokens. SSE events are scanned line by line (the `usage` / `timings` event parsed, content
 * events counted); a JSON body is kept up to 1 MiB and its `usage` read at the end. Nothing is buffered beyond
 * one partial SSE line, and chunks are never changed.
 */
export class ResponseTap {
  /** `performance.now()` of the first body byte, or null. */
  firstByteAt: number | null = null;
  /** `performance.now()` of the last body byte, or null. */
  lastByteAt: number | null = null;
  bytes = 0;
  readonly #sse: boolean;
  #partial = '';
  #events = 0;
  #prompt: number | null = null;
  #completion: number | null = null;
  #json: Buffer[] | null = [];
  #jsonBytes = 0;

  readonly #onFirstByte: (() => void) | undefined;

  /** @param onFirstByte called once, when the first body byte passes. */
  constructor(contentType: string | undefined, onFirstByte?: () => void) {
    this.#sse = (contentType ?? '').includes('text/event-stream');
    this.#onFirstByte = onFirstByte;
  }

  /** Notes one chunk on its way to the client. */
  observe(chunk: Buffer): void {
    const now = performance.now();
    if (this.firstByteAt === null) {
      this.firstByteAt = now;
      this.#onFirstByte?.();
    }
    this.lastByteAt = now;
    this.bytes += chunk.length;
    if (this.#sse) this.#scan(chunk.toString('utf8'));
    else if (this.#json) {
      this.#jsonBytes += chunk.length;
      if (this.#jsonBytes > JSON_CAPTURE_LIMIT) this.#json = null;
      else this.#json.push(chunk);
    }
  }

  /** What the response said about tokens (read after the body ended). */
  usage(): TappedUsage {
    if (!this.#sse && this.#json) {
      try {
        const body = JSON.parse(Buffer.concat(this.#json).toString('utf8')) as {
          usage?: Record<string, unknown>;
        };
        this.#json = null;
        this.#readUsage(body);
      } catch {
        this.#json = null;
      }
    }
    if (this.#sse && this.#partial) this.#line(this.#partial);
    this.#partial = '';
    const counted = this.#sse && this.#events > 0 ? this.#events : null;
    return { promptTokens: this.#prompt, completionTokens: this.#completion ?? counted };
  }

  #scan(text: string): void {
    let newline = text.indexOf('\n');
    if (newline < 0) {
      this.#partial += text;
      return;
    }
    this.#line(this.#partial + text.slice(0, newline));
    let start = newline + 1;
    for (newline = text.indexOf('\n', start); newline >= 0; newline = text.indexOf('\n', start)) {
      this.#line(text.slice(start, newline));
      start = newline + 1;
    }
    this.#partial = text.slice(start);
  }

  #line(line: string): void {
    if (!line.startsWith('data:')) return;
    const data = line.slice(5).trim();
    if (data === '[DONE]' || data === '') return;
    // Only the events that carry counts are parsed; content events are counted (about one token each).
    if (data.includes('"usage"') || data.includes('"timings"')) {
      try {
        this.#readUsage(JSON.parse(data) as Record<string, unknown>);
      } catch {
        // A malformed event is the client's to see; the tap only counts.
      }
    }
    if (data.includes('"content":"') || data.includes('"text":"')) this.#events += 1;
  }

  #readUsage(body: Record<string, unknown>): void {
    const usage = body.usage as Record<string, unknown> | null | undefined;
    if (usage && typeof usage === 'object') {
      this.#prompt = numberOr(usage.prompt_tokens, this.#prompt);
      this.#completion = numberOr(usage.completion_tokens, this.#completion);
    }
    const timings = body.timings as Record<string, unknown> | null | undefined;
    if (timings && typeof timings === 'object') {
      this.#prompt ??= numberOr(timings.prompt_n, null);
      this.#completion ??= numberOr(timings.predicted_n, null);
    }
  }
}
