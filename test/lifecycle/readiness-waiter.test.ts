import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReadinessResult } from '../../src/backend/backend.js';
import { ModelNotFoundError } from '../../src/errors/error-catalog.js';
import { type ReadinessWaitOptions, waitForReadiness } from '../../src/lifecycle/readiness-waiter.js';

const plan = {
  readyTimeoutMs: 10_000,
  stallTimeoutMs: 2_000,
  readinessIntervalMs: 10,
  readinessMaxIntervalMs: 100,
  probeTimeoutMs: 500,
};

/** A probe that answers from a script (the last answer repeats) and records when it was called. */
function scriptedProbe(...answers: ReadinessResult[]) {
  const calls: number[] = [];
  const probe = async () => {
    calls.push(Date.now());
    return answers[Math.min(calls.length - 1, answers.length - 1)]!;
  };
  return { probe, calls };
}

function wait(options: Partial<ReadinessWaitOptions> & Pick<ReadinessWaitOptions, 'probe'>) {
  const promise = waitForReadiness({ instanceId: 'i-1', backend: 'scripted', plan, ...options });
  const settled = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error as Record<string, unknown> }),
  );
  return settled;
}

const pending = (detail = 'loading'): ReadinessResult => ({ status: 'pending', detail });

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('waitForReadiness', () => {
  it('probes at once, then at doubling intervals up to the cap, until ready', async () => {
    const { probe, calls } = scriptedProbe(...Array.from({ length: 7 }, () => pending()), {
      status: 'ready',
    });
    const result = wait({ probe });
    await vi.advanceTimersByTimeAsync(1_000);
    const { value } = (await result) as { value: { probes: number } };
    expect(value.probes).toBe(8);
    const gaps = calls.slice(1).map((t, i) => t - calls[i]!);
    expect(gaps).toEqual([10, 20, 40, 80, 100, 100, 100]);
  });

  it('runs a confirming probe at once when the log says ready', async () => {
    let hint: (() => void) | undefined;
    let ready = false;
    const calls: number[] = [];
    const result = wait({
      plan: { ...plan, readinessIntervalMs: 1_000, readinessMaxIntervalMs: 1_000 },
      probe: async () => {
        calls.push(Date.now());
        return ready ? { status: 'ready' } : pending();
      },
      onReadyHint: (listener) => {
        hint = listener;
        return () => {
          hint = undefined;
        };
      },
    });
    await vi.advanceTimersByTimeAsync(300);
    ready = true;
    hint?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(await result).toHaveProperty('value');
    expect(calls).toEqual([0, 300]);
    expect(hint).toBeUndefined();
  });

  it('fails with readiness_timeout (reason timeout) at the hard cap while probes keep changing', async () => {
    let n = 0;
    const result = wait({ probe: async () => pending(`loading ${n++}`), readyTimeoutMs: 3_000 });
    await vi.advanceTimersByTimeAsync(3_000);
    const { error } = (await result) as { error: Record<string, unknown> };
    expect(error.code).toBe('readiness_timeout');
    expect(error.details).toMatchObject({ reason: 'timeout', readyTimeoutMs: 3_000 });
  });

  it("fails with the probe's own timeoutError when one was given", async () => {
    const timeoutError = new ModelNotFoundError('model "x" is not pulled; run `ollama pull x`');
    let n = 0;
    const result = wait({ probe: async () => ({ ...pending(`${n++}`), timeoutError }), readyTimeoutMs: 500 });
    await vi.advanceTimersByTimeAsync(500);
    expect(((await result) as { error: unknown }).error).toBe(timeoutError);
  });

  it('fails with reason stalled when neither output nor the probe result changes', async () => {
    const { probe } = scriptedProbe(pending('loading'));
    const result = wait({ probe });
    await vi.advanceTimersByTimeAsync(2_000);
    const { error } = (await result) as { error: Record<string, unknown> };
    expect(error.code).toBe('readiness_timeout');
    expect(error.details).toMatchObject({ reason: 'stalled', lastDetail: 'loading' });
  });

  it('does not stall while output keeps coming', async () => {
    const listeners = new Set<() => void>();
    const { probe } = scriptedProbe(pending('loading'));
    const result = wait({
      probe,
      readyTimeoutMs: 60_000,
      onActivity: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    });
    let done = false;
    void result.then(() => {
      done = true;
    });
    for (let i = 0; i < 10; i += 1) {
      await vi.advanceTimersByTimeAsync(1_000);
      for (const listener of listeners) listener();
    }
    // Ten seconds of output with a 2 s stall deadline: still waiting.
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(((await result) as { error: Record<string, unknown> }).error.details).toMatchObject({
      reason: 'stalled',
    });
    expect(listeners.size).toBe(0);
  });

  it('fails at once with process_exited, exit code and last lines when the process exits', async () => {
    const { probe } = scriptedProbe(pending());
    let exit!: (info: { exitCode: number | null; signal: string | null }) => void;
    const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
      exit = resolve;
    });
    const result = wait({ probe, exited, lastLogLines: () => ['loading', 'error: out of memory'] });
    await vi.advanceTimersByTimeAsync(50);
    exit({ exitCode: 137, signal: null });
    const { error } = (await result) as { error: Record<string, unknown> };
    expect(error.code).toBe('process_exited');
    expect(error.exitCode).toBe(137);
    expect(error.lastLogLines).toEqual(['loading', 'error: out of memory']);
    expect(error.message).toContain('error: out of memory');
  });

  it("fails at once with the error of a 'failed' probe result", async () => {
    const failure = new ModelNotFoundError('no such model');
    const { probe } = scriptedProbe(pending(), { status: 'failed', error: failure });
    const result = wait({ probe });
    await vi.advanceTimersByTimeAsync(10);
    expect(((await result) as { error: unknown }).error).toBe(failure);
  });

  it('fails with aborted when the signal aborts, and aborts the probe in flight', async () => {
    const controller = new AbortController();
    let probeSignal: AbortSignal | undefined;
    const result = wait({
      probe: (signal) => {
        probeSignal = signal;
        return new Promise(() => {});
      },
      signal: controller.signal,
    });
    await vi.advanceTimersByTimeAsync(5);
    controller.abort();
    expect(((await result) as { error: Record<string, unknown> }).error.code).toBe('aborted');
    expect(probeSignal?.aborted).toBe(true);
  });

  it('treats a probe that exceeds probeTimeoutMs as pending and reports it', async () => {
    const failures: string[] = [];
    let calls = 0;
    const result = wait({
      probe: async () => {
        calls += 1;
        return calls === 1 ? new Promise<ReadinessResult>(() => {}) : { status: 'ready' };
      },
      onProbeFailed: (detail) => failures.push(detail),
    });
    await vi.advanceTimersByTimeAsync(510);
    expect(await result).toHaveProperty('value');
    expect(failures).toEqual(['probe timed out after 500 ms']);
  });
});
