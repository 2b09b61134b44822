import type { HealthResult } from '../backend/backend.js';
import type { HealthStatus } from '../contracts/runtime-snapshot.js';

/** Which check produced an observation. */
export type HealthProbeKind = 'health' | 'functional';

/** The result of one check, normalized: a thrown check is `unavailable`. */
export interface HealthObservation {
  probe: HealthProbeKind;
  status: HealthStatus;
  detail: string | null;
  /** Consecutive non-healthy results of this check, this one included (0 when healthy). */
  consecutiveFailures: number;
  /** True when this check had thrown rather than answered. */
  threw: boolean;
}

/** Options of {@link HealthMonitor}; intervals in ms. */
export interface HealthMonitorOptions {
  healthIntervalMs: number;
  functionalHealthIntervalMs: number;
  /** Per-check timeout, in ms. */
  probeTimeoutMs: number;
  check(signal: AbortSignal): Promise<HealthResult>;
  functional?: (signal: AbortSignal) => Promise<HealthResult>;
  onObservation(observation: HealthObservation): void;
}

/**
 * Runs the liveness check every `healthIntervalMs` and the optional functional check every
 * `functionalHealthIntervalMs`, each on its own unref'd timer, never overlapping with itself. Each check
 * keeps its own failure counter, so a rare functional check is not reset by frequent liveness answers.
 */
export class HealthMonitor {
  readonly #options: HealthMonitorOptions;
  readonly #timers = new Map<HealthProbeKind, NodeJS.Timeout>();
  readonly #failures: Record<HealthProbeKind, number> = { health: 0, functional: 0 };
  readonly #stopped = new AbortController();
  #running = false;

  constructor(options: HealthMonitorOptions) {
    this.#options = options;
  }

  /** Starts both loops; the first checks run one interval from now. Calling it twice does nothing. */
  start(): void {
    if (this.#running || this.#stopped.signal.aborted) return;
    this.#running = true;
    this.#schedule('health');
    if (this.#options.functional) this.#schedule('functional');
  }

  /** Stops both loops, clears the timers and aborts checks in flight. Idempotent. */
  stop(): void {
    this.#running = false;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#stopped.abort();
  }

  /** Consecutive failures of a check. */
  failures(kind: HealthProbeKind): number {
    return this.#failures[kind];
  }

  #schedule(kind: HealthProbeKind): void {
    if (!this.#running) return;
    const interval =
      kind === 'health' ? this.#options.healthIntervalMs : this.#options.functionalHealthIntervalMs;
    const timer = setTimeout(() => void this.#run(kind), Math.max(1, interval));
    timer.unref();
    this.#timers.set(kind, timer);
  }

  async #run(kind: HealthProbeKind): Promise<void> {
    this.#timers.delete(kind);
    const run = kind === 'health' ? this.#options.check : this.#options.functional;
    if (!run || !this.#running) return;
    const probeAbort = new AbortController();
    const onStop = () => probeAbort.abort();
    this.#stopped.signal.addEventListener('abort', onStop, { once: true });
    const timeout = setTimeout(
      () => probeAbort.abort(new Error(`check timed out after ${this.#options.probeTimeoutMs} ms`)),
      this.#options.probeTimeoutMs,
    );
    let result: HealthResult;
    let threw = false;
    try {
      const aborted = new Promise<never>((_, fail) => {
        probeAbort.signal.addEventListener('abort', () => fail(probeAbort.signal.reason), { once: true });
      });
      aborted.catch(() => {});
      result = await Promise.race([run(probeAbort.signal), aborted]);
    } catch (error) {
      threw = true;
      result = { status: 'unavailable', detail: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timeout);
      this.#stopped.signal.removeEventListener('abort', onStop);
    }
    if (!this.#running) return;
    this.#failures[kind] = result.status === 'healthy' ? 0 : this.#failures[kind] + 1;
    this.#options.onObservation({
      probe: kind,
      status: result.status,
      detail: result.detail ?? null,
      consecutiveFailures: this.#failures[kind],
      threw,
    });
    this.#schedule(kind);
  }
}
