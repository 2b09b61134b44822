import type { ServerResponse } from 'node:http';

/** One open Server-Sent Events response. */
export interface SseStream {
  /** Writes one event; `data` is JSON-serialized (Secrets print `[redacted]`). */
  send(event: string, data: unknown): void;
  /** Ends the response (idempotent). */
  close(): void;
  /** Resolves when the client disconnects or `close()` is called. */
  readonly closed: Promise<void>;
}

/**
 * Starts an SSE response on a raw Node response: headers, a comment every `heartbeatMs` so proxies keep the
 * connection, and cleanup of the timer on every path.
 */
export function openSseStream(raw: ServerResponse, heartbeatMs = 15_000): SseStream {
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write(': connected\n\n');
  let ended = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), heartbeatMs);
  heartbeat.unref();
  const finish = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    resolveClosed();
  };
  raw.on('close', finish);
  return {
    closed,
    send(event, data) {
      if (ended) return;
      raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (ended) return;
      finish();
      raw.end();
    },
  };
}
