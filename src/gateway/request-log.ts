import type { RequestOutcome, RequestRecord } from './gateway-events.js';

/** Filters of {@link RequestLog.list}. */
export interface RequestLogQuery {
  deployment?: string;
  outcome?: RequestOutcome;
  /** Only requests that arrived at or after this epoch ms. */
  since?: number;
  /** Newest first, at most this many. @default 100 */
  limit?: number;
}

/** Where the gateway keeps finished requests: {@link RequestLog} in memory, or the daemon's state store. */
export interface RequestHistory {
  add(record: RequestRecord): void;
  /** Matching records, newest first. */
  list(query?: RequestLogQuery): RequestRecord[];
}

/** The most recent finished gateway requests, in a fixed-size ring (oldest dropped first). */
export class RequestLog implements RequestHistory {
  readonly #capacity: number;
  readonly #ring: (RequestRecord | undefined)[];
  #next = 0;
  #size = 0;

  constructor(capacity = 1000) {
    this.#capacity = Math.max(1, capacity);
    this.#ring = new Array(this.#capacity);
  }

  add(record: RequestRecord): void {
    this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.#capacity;
    this.#size = Math.min(this.#size + 1, this.#capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Matching records, newest first. */
  list(query: RequestLogQuery = {}): RequestRecord[] {
    const limit = query.limit ?? 100;
    const out: RequestRecord[] = [];
    for (let i = 1; i <= this.#size && out.length < limit; i++) {
      const record = this.#ring[(this.#next - i + this.#capacity) % this.#capacity]!;
      if (query.deployment !== undefined && record.deployment !== query.deployment) continue;
      if (query.outcome !== undefined && record.outcome !== query.outcome) continue;
      if (query.since !== undefined && record.startedAt < query.since) continue;
      out.push(record);
    }
    return out;
  }
}
