import type { ProgressReport } from 'self-hosted-inference-core';
import type { OllamaConnection } from './ollama-api.js';
import { type OllamaPullProgress, pullOllamaModel } from './ollama-pull.js';

/** One background pull and what is known about it. */
export interface OllamaPull {
  readonly model: string;
  state: 'running' | 'succeeded' | 'failed';
  progress?: OllamaPullProgress;
  error?: Error;
  /** Where progress goes; the latest readiness probe's context replaces it. */
  report: (progress: ProgressReport) => void;
  /** Epoch ms of the last readiness probe that looked at this pull. */
  watchedAt: number;
}

/** A pull no readiness probe looked at for this long (the start failed or was dropped) is aborted, in ms. */
export const ABANDONED_PULL_MS = 60_000;

/**
 * At most one pull per instance, run in the background: a pull outlives the short readiness probes that
 * watch it, so it cannot live inside one.
 */
export class OllamaPullTracker {
  readonly #pulls = new Map<string, OllamaPull & { controller: AbortController }>();
  readonly #abandonAfterMs: number;

  /** @param options.abandonAfterMs Abort a pull no probe watched for this long, in ms. @default 60000 */
  constructor(options: { abandonAfterMs?: number } = {}) {
    this.#abandonAfterMs = options.abandonAfterMs ?? ABANDONED_PULL_MS;
  }

  /** The pull for an instance, if one was started. */
  get(instanceId: string): OllamaPull | undefined {
    return this.#pulls.get(instanceId);
  }

  /** Notes that a readiness probe is still waiting on the instance's pull. */
  watch(instanceId: string, report: (progress: ProgressReport) => void): OllamaPull | undefined {
    const pull = this.#pulls.get(instanceId);
    if (pull) {
      pull.report = report;
      pull.watchedAt = Date.now();
    }
    return pull;
  }

  /** Starts the instance's pull unless one was already started; returns it either way. */
  start(
    instanceId: string,
    conn: OllamaConnection,
    model: string,
    report: (progress: ProgressReport) => void,
  ): OllamaPull {
    const existing = this.#pulls.get(instanceId);
    if (existing) return existing;
    const controller = new AbortController();
    const pull = {
      model,
      state: 'running' as OllamaPull['state'],
      report,
      watchedAt: Date.now(),
      controller,
    } as OllamaPull & { controller: AbortController };
    this.#pulls.set(instanceId, pull);
    let lastKey = '';
    pullOllamaModel(conn, model, {
      signal: controller.signal,
      onProgress: (progress) => {
        pull.progress = progress;
        // The kernel calls no hook when a start fails, so a pull nobody watches any more stops itself.
        if (Date.now() - pull.watchedAt > this.#abandonAfterMs) controller.abort();
        // Ollama sends many lines a second; report only when the status or whole percent changes.
        const key = `${progress.status}|${Math.floor(progress.percent ?? -1)}`;
        if (key === lastKey) return;
        lastKey = key;
        pull.report({
          phase: 'pulling',
          message: `pulling ${model}: ${progress.status}`,
          ...(progress.percent === undefined ? {} : { percent: progress.percent }),
        });
      },
    }).then(
      () => {
        pull.state = 'succeeded';
      },
      (error: unknown) => {
        pull.state = 'failed';
        pull.error = error instanceof Error ? error : new Error(String(error));
      },
    );
    return pull;
  }

  /** Aborts and forgets the instance's pull. */
  cancel(instanceId: string): void {
    const pull = this.#pulls.get(instanceId);
    if (!pull) return;
    this.#pulls.delete(instanceId);
    if (pull.state === 'running') pull.controller.abort();
  }
}
