import { StringDecoder } from 'node:string_decoder';

/** Options of {@link LineSplitter}. */
export interface LineSplitterOptions {
  /** Longest line emitted, in characters; longer lines are cut into pieces of this size. @default 16384 */
  maxLineLength?: number;
}

/**
 * Turns a byte stream into lines: handles chunks that split a line or a UTF-8 character, `\n`, `\r\n`
 * and a lone `\r` (progress bars redraw with it), and cuts runaway lines so memory stays bounded.
 */
export class LineSplitter {
  readonly maxLineLength: number;
  #decoder = new StringDecoder('utf8');
  #pending = '';
  #afterCR = false;
  #emit: (line: string) => void;

  constructor(emit: (line: string) => void, options: LineSplitterOptions = {}) {
    this.#emit = emit;
    this.maxLineLength = Math.max(1, Math.floor(options.maxLineLength ?? 16 * 1024));
  }

  /** Feeds one chunk; complete lines are emitted at once. */
  write(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 10 /* \n */) {
        if (this.#afterCR && i === start && this.#pending === '') {
          // Second half of a \r\n whose \r already ended the line.
          this.#afterCR = false;
          start = i + 1;
          continue;
        }
        this.#flushLine(text.slice(start, i));
        start = i + 1;
        this.#afterCR = false;
      } else if (ch === 13 /* \r */) {
        this.#flushLine(text.slice(start, i));
        start = i + 1;
        this.#afterCR = true;
      } else {
        this.#afterCR = false;
      }
    }
    if (start < text.length) {
      this.#pending += text.slice(start);
      while (this.#pending.length > this.maxLineLength) {
        this.#emit(this.#pending.slice(0, this.maxLineLength));
        this.#pending = this.#pending.slice(this.maxLineLength);
      }
    }
  }

  /** Emits whatever is left (a last line without a newline). */
  end(): void {
    const rest = this.#pending + this.#decoder.end();
    this.#pending = '';
    if (rest !== '') this.write(`${rest}\n`);
  }

  #flushLine(tail: string): void {
    let line = this.#pending + tail;
    this.#pending = '';
    while (line.length > this.maxLineLength) {
      this.#emit(line.slice(0, this.maxLineLength));
      line = line.slice(this.maxLineLength);
    }
    this.#emit(line);
  }
}
