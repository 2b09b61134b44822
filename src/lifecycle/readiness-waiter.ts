import type { ReadinessResult } from '../backend/backend.js';
import type { StartupPlan } from '../contracts/startup-plan.js';
import { AbortedError, ProcessExitedError, ReadinessTimeoutError } from '../errors/error-catalog.js';
import { KernelError } from '../errors/kernel-error.js';

/** How a process ended, as the process layer reports it. */
export interface ExitSummary {
  exitCode: number | null;
  signal: string | null;
}

/** Options of {@link waitForReadiness}. */
export interface ReadinessWaitOptions {
  instanceId: string;
  backend: string;
  /** Intervals and deadlines, in ms; `readyTimeoutMs` and `stallTimeoutMs` of 0 disable that deadline. */
  plan: Pick<
    StartupPlan,
    'readyTimeoutMs' | 'stallTimeoutMs' | 'readinessIntervalMs' | 'readinessMaxIntervalMs' | 'probeTimeoutMs'
  >;
  /** Replaces `plan.readyTimeoutMs`, in ms. */
  readyTimeoutMs?: number;
  /** One probe; `signal` aborts at the per-probe timeout or when the wait ends. */
  probe(signal: AbortSignal): Promise<ReadinessResult>;
  /** Settles when the process exits (spawned instances); the wait then fails at once. */
  exited?: Promise<ExitSummary>;
  /** The process's last output lines, for error context. */
  lastLogLines?: () => string[];
  /** Subscribes to output activity (any new line), which keeps the stall deadline away. */
  onActivity?: (listener: () => void) => () => void;
  /** Subscribes to "the log says ready" hints; each triggers one probe at once. */
  onReadyHint?: (listener: () => void) => () => void;
  /** Called when a probe throws or times out (it then counts as pending). */
  onProbeFailed?: (detail: string) => void;
  /** Aborts the wait with `AbortedError`. */
  signal?: AbortSignal;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
}

/** What a successful wait saw. */
export interface ReadinessOutcome {
  detail?: string;
  metadata?: Record<string, unknown>;
  /** Probes run. */
  probes: number;
  /** Time from the start of the wait to ready, in ms. */
  waitedMs: number;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Polls a readiness probe until it says ready, with an adaptive interval (doubling from
 * `readinessIntervalMs` to `readinessMaxIntervalMs`), a per-probe timeout, a hard cap and a stall deadline
 * (no output and no change in probe result for `stallTimeoutMs`), so a slow but progressing load survives
 * while a hung one fails. Ends at once when the process exits or a probe says `failed`.
 * Every path clears its timers and listeners.
 * @throws ReadinessTimeoutError (`details.reason` `timeout` or `stalled`), or the probe's `timeoutError`.
 * @throws ProcessExitedError with exit code/signal and the last log lines.
 * @throws AbortedError when `signal` aborts.
 * @throws KernelError from a `failed` probe result.
 */
export function waitForReadiness(options: ReadinessWaitOptions): Promise<ReadinessOutcome> {
  const now = options.now ?? Date.now;
  const { plan, instanceId, backend } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? plan.readyTimeoutMs;
  const context = { instanceId, backend };
  const logLines = () => options.lastLogLines?.() ?? [];

  return new Promise<ReadinessOutcome>((resolve, reject) => {
    const startedAt = now();
    const cleanups: Array<() => void> = [];
    const waitEnded = new AbortController();
    let settled = false;
    let nextProbe: NodeJS.Timeout | undefined;
    let interval = Math.max(1, plan.readinessIntervalMs);
    let inFlight = false;
    let probeAgain = false;
    let probes = 0;
    let lastActivity = startedAt;
    let lastSignature: string | undefined;
    let lastDetail: string | undefined;
    let pendingTimeoutError: KernelError | undefined;

    const finish = (error: unknown, outcome?: ReadinessOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(nextProbe);
      for (const cleanup of cleanups.splice(0)) cleanup();
      waitEnded.abort();
      if (outcome) resolve(outcome);
      else reject(error);
    };
    const timer = (ms: number, fn: () => void) => {
      const handle = setTimeout(fn, ms);
      cleanups.push(() => clearTimeout(handle));
      return handle;
    };

    const timeoutError = (reason: 'timeout' | 'stalled') =>
      new ReadinessTimeoutError(
        reason === 'stalled'
          ? `Instance "${instanceId}" (${backend}) stalled while starting: no output and no probe progress for ${plan.stallTimeoutMs} ms (plan.stallTimeoutMs). Last probe: ${lastDetail ?? 'none'}.`
          : `Instance "${instanceId}" (${backend}) was not ready within ${readyTimeoutMs} ms (readyTimeoutMs). Last probe: ${lastDetail ?? 'none'}. Raise readyTimeoutMs if the model is large.`,
        {
          ...context,
          lastLogLines: logLines(),
          details: {
            reason,
            readyTimeoutMs,
            stallTimeoutMs: plan.stallTimeoutMs,
            probes,
            lastDetail: lastDetail ?? null,
          },
        },
      );

    const runProbe = async () => {
      nextProbe = undefined;
      if (settled) return;
      if (inFlight) {
        probeAgain = true;
        return;
      }
      inFlight = true;
      probes += 1;
      const probeAbort = new AbortController();
      const onEnd = () => probeAbort.abort(new AbortedError('The readiness wait ended.'));
      waitEnded.signal.addEventListener('abort', onEnd, { once: true });
      const probeTimer = setTimeout(
        () => probeAbort.abort(new Error(`probe timed out after ${plan.probeTimeoutMs} ms`)),
        plan.probeTimeoutMs,
      );
      let result: ReadinessResult;
      try {
        const aborted = new Promise<never>((_, fail) => {
          probeAbort.signal.addEventListener('abort', () => fail(probeAbort.signal.reason), { once: true });
        });
        aborted.catch(() => {});
        result = await Promise.race([options.probe(probeAbort.signal), aborted]);
      } catch (error) {
        result = { status: 'pending', detail: `probe error: ${describe(error)}` };
        if (!settled) options.onProbeFailed?.(describe(error));
      } finally {
        clearTimeout(probeTimer);
        waitEnded.signal.removeEventListener('abort', onEnd);
        inFlight = false;
      }
      if (settled) return;
      if (result.status === 'ready') {
        const outcome: ReadinessOutcome = { probes, waitedMs: now() - startedAt };
        if (result.detail !== undefined) outcome.detail = result.detail;
        if (result.metadata !== undefined) outcome.metadata = result.metadata;
        finish(undefined, outcome);
        return;
      }
      if (result.status === 'failed') {
        finish(result.error);
        return;
      }
      if (result.timeoutError) pendingTimeoutError = result.timeoutError;
      const signature = `${result.status}:${result.detail ?? ''}`;
      if (signature !== lastSignature) {
        lastSignature = signature;
        lastActivity = now();
      }
      lastDetail = result.detail ?? lastDetail;
      if (probeAgain) {
        probeAgain = false;
        schedule(0);
      } else {
        schedule(interval);
        interval = Math.min(interval * 2, Math.max(interval, plan.readinessMaxIntervalMs));
      }
    };
    const schedule = (ms: number) => {
      clearTimeout(nextProbe);
      nextProbe = setTimeout(() => void runProbe(), ms);
    };

    if (options.signal?.aborted) {
      finish(new AbortedError(`Start of instance "${instanceId}" was aborted.`, context));
      return;
    }
    if (options.signal) {
      const signal = options.signal;
      const onAbort = () =>
        finish(new AbortedError(`Start of instance "${instanceId}" was aborted.`, context));
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    if (readyTimeoutMs > 0) {
      timer(readyTimeoutMs, () => finish(pendingTimeoutError ?? timeoutError('timeout')));
    }
    if (plan.stallTimeoutMs > 0) {
      // One timer re-armed for the remaining quiet time, rather than a reset on every output line.
      const armStall = (ms: number) =>
        timer(ms, () => {
          const quietMs = now() - lastActivity;
          if (quietMs >= plan.stallTimeoutMs) finish(timeoutError('stalled'));
          else armStall(plan.stallTimeoutMs - quietMs);
        });
      armStall(plan.stallTimeoutMs);
    }
    if (options.onActivity) {
      cleanups.push(
        options.onActivity(() => {
          lastActivity = now();
        }),
      );
    }
    if (options.onReadyHint) {
      cleanups.push(
        options.onReadyHint(() => {
          lastActivity = now();
          if (inFlight) probeAgain = true;
          else schedule(0);
        }),
      );
    }
    options.exited?.then(
      (exit) => {
        const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
        const lines = logLines();
        finish(
          new ProcessExitedError(
            `Instance "${instanceId}" (${backend}) ${how} before it was ready. Last output: ${lines.slice(-3).join(' | ') || '(none)'}`,
            exit,
            { ...context, lastLogLines: lines },
          ),
        );
      },
      (error: unknown) =>
        finish(KernelError.isInstance(error) ? error : new AbortedError(describe(error), context)),
    );
    schedule(0);
  });
}
