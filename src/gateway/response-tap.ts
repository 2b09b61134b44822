/** Token counts a response reported (OpenAI `usage`, or llama-server's `timings`), else counted chunks. */
export interface TappedUsage {
  promptTokens: number | null;
  completionTokens: number | null;
}

const JSON_CAPTURE_LIMIT = 1024 * 1024;
/** Longest partial SSE line kept between chunks; longer lines are only counted, not parsed. */
const PARTIAL_LIMIT = 64 * 1024;
const USAGE = Buffer.from('"usage"');
const TIMINGS = Buffer.from('"timings"');
const CONTENT = Buffer.from('"content":"');
const TEXT = Buffer.from('"text":"');

function occurrences(chunk: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf(needle); at >= 0; at = chunk.indexOf(needle, at + needle.length)) n += 1;
  return n;
}

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
  /** Bytes after the last newline seen (the start of an SSE line still arriving). */
  #partial: Buffer = Buffer.alloc(0);
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
    if (this.#sse) this.#observeSse(chunk);
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
    if (this.#sse && this.#partial.length > 0) this.#line(this.#partial.toString('utf8'));
    this.#partial = Buffer.alloc(0);
    const counted = this.#sse && this.#events > 0 ? this.#events : null;
    return { promptTokens: this.#prompt, completionTokens: this.#completion ?? counted };
  }

  // Hot path (one call per token): content events are counted on the bytes; only a chunk that may carry the
  // `usage` / `timings` event is decoded and parsed line by line, with the partial line before it.
  #observeSse(chunk: Buffer): void {
    // A marker may also straddle the previous chunk and this one, or wait in the unfinished line before it.
    const seam =
      this.#partial.length > 0
        ? Buffer.concat([this.#partial.subarray(-TIMINGS.length), chunk.subarray(0, TIMINGS.length)])
        : undefined;
    const has = (b: Buffer) => b.indexOf(USAGE) >= 0 || b.indexOf(TIMINGS) >= 0;
    const counts = has(chunk) || (seam !== undefined && (has(seam) || has(this.#partial)));
    const lastNewline = chunk.lastIndexOf(10);
    if (counts) {
      const text = Buffer.concat([this.#partial, chunk]).toString('utf8');
      const lines = text.split('\n');
      const rest = lines.pop() ?? '';
      for (const line of lines) this.#line(line);
      this.#partial = Buffer.from(rest);
      return;
    }
    this.#events += occurrences(chunk, CONTENT) + occurrences(chunk, TEXT);
    if (lastNewline >= 0) this.#partial = Buffer.from(chunk.subarray(lastNewline + 1));
    else if (this.#partial.length + chunk.length <= PARTIAL_LIMIT)
      this.#partial = Buffer.concat([this.#partial, chunk]);
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
