import { closeSync, type FSWatcher, fstatSync, openSync, readSync, truncateSync, watch } from 'node:fs';

/** Options of {@link FileTail}. */
export interface FileTailOptions {
  /** Byte offset to start reading at. @default 0 */
  from?: number;
  /** Receives every chunk appended to the file, in order. */
  onChunk: (chunk: Buffer) => void;
  /** Polling interval besides the file-change notifications, ms. @default 200 */
  intervalMs?: number;
  /**
   * Once the file is larger than this, it is truncated to empty (its writer appends, so it carries on at the new
   * end): a server that runs for weeks cannot fill the disk. In bytes. @default 64 MiB
   */
  maxBytes?: number;
}

const CHUNK = 64 * 1024;

/**
 * Follows a file another process appends to (a server's output, which must outlive the daemon that reads it, so it
 * goes to a file and not to a pipe): file-change notifications wake it, a slow poll covers file systems without them.
 */
export class FileTail {
  readonly file: string;
  readonly #o: FileTailOptions;
  readonly #buffer = Buffer.alloc(CHUNK);
  #fd: number | undefined;
  #offset: number;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(file: string, options: FileTailOptions) {
    this.file = file;
    this.#o = options;
    this.#offset = options.from ?? 0;
  }

  /** Starts following; reads what is already there past `from` at once. */
  start(): void {
    if (this.#stopped || this.#fd !== undefined) return;
    this.#fd = openSync(this.file, 'r');
    try {
      this.#watcher = watch(this.file, { persistent: false }, () => this.read());
      this.#watcher.on('error', () => {});
    } catch {
      // No notifications here: the poll alone.
    }
    this.#timer = setInterval(() => this.read(), this.#o.intervalMs ?? 200);
    this.#timer.unref();
    this.read();
  }

  /** Reads everything appended since the last read. */
  read(): void {
    const fd = this.#fd;
    if (fd === undefined || this.#stopped) return;
    try {
      const size = fstatSync(fd).size;
      if (size < this.#offset) this.#offset = 0; // truncated under us
      for (;;) {
        const n = readSync(fd, this.#buffer, 0, CHUNK, this.#offset);
        if (n <= 0) break;
        this.#offset += n;
        this.#o.onChunk(Buffer.from(this.#buffer.subarray(0, n)));
      }
      if (this.#offset > (this.#o.maxBytes ?? 64 * 1024 * 1024)) {
        truncateSync(this.file, 0);
        this.#offset = 0;
      }
    } catch {
      // The file went away: nothing more to read.
    }
  }

  /** Reads what is left, then stops. */
  finish(): void {
    this.read();
    this.stop();
  }

  /** Stops following (idempotent); the file is left as it is. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#watcher?.close();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
