/** One captured output line. */
export interface LogEntry {
  /** When the line was read, epoch ms. */
  at: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** Options of {@link LogRing}. */
export interface LogRingOptions {
  /** Most lines kept. @default 200 */
  maxLines?: number;
  /** Most bytes kept (UTF-8 length of the lines). @default 65536 (64 KiB) */
  maxBytes?: number;
}

type LineListener = (entry: LogEntry) => void;

/**
 * The last lines a process printed, bounded by count and by bytes, so errors and `logs` can show them
 * without the kernel's memory growing with a chatty server.
 */
export class LogRing {
  readonly maxLines: number;
  readonly maxBytes: number;
  #entries: Array<LogEntry & { bytes: number }> = [];
  #head = 0;
  #bytes = 0;
  #total = 0;
  #listeners = new Set<LineListener>();

  constructor(options: LogRingOptions = {}) {
    this.maxLines = Math.max(1, Math.floor(options.maxLines ?? 200));
    this.maxBytes = Math.max(1, Math.floor(options.maxBytes ?? 64 * 1024));
  }

  /** Lines pushed since creation (or the last `clear()`), including ones already dropped. */
  get totalLines(): number {
    return this.#total;
  }

  /** Appends a line, dropping the oldest ones beyond `maxLines` / `maxBytes`, and notifies listeners. */
  push(stream: 'stdout' | 'stderr', line: string): void {
    let text = line;
    let bytes = Buffer.byteLength(text);
    if (bytes > this.maxBytes) {
      // A single line larger than the whole budget keeps its tail (the end usually says what went wrong).
      text = Buffer.from(text)
        .subarray(bytes - this.maxBytes)
        .toString('utf8');
      bytes = Buffer.byteLength(text);
    }
    const entry = { at: Date.now(), stream, line: text, bytes };
    this.#entries.push(entry);
    this.#bytes += bytes;
    this.#total += 1;
    while (this.size > this.maxLines || this.#bytes > this.maxBytes) {
      const dropped = this.#entries[this.#head]!;
      this.#bytes -= dropped.bytes;
      this.#head += 1;
    }
    // Compact now and then so dropped entries do not accumulate.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    for (const listener of this.#listeners) listener({ at: entry.at, stream, line: text });
  }

  /** Lines currently kept. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** The last `n` lines (all kept lines when omitted), oldest first, as printed. */
  lines(n?: number): string[] {
    const kept = this.#entries.slice(this.#head);
    const selected = n === undefined ? kept : n <= 0 ? [] : kept.slice(-n);
    return selected.map((e) => e.line);
  }

  /** Kept entries with stream and time, oldest first. */
  entries(): LogEntry[] {
    return this.#entries.slice(this.#head).map(({ at, stream, line }) => ({ at, stream, line }));
  }

  /** Drops every kept line and resets `totalLines`; listeners stay subscribed. */
  clear(): void {
    this.#entries = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#total = 0;
  }

  /** Calls `listener` for each new line (for log follow). Returns the unsubscribe function. */
  onLine(listener: LineListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Number of subscribed line listeners (lets tests check nothing is left subscribed). */
  get listenerCount(): number {
    return this.#listeners.size;
  }
}
