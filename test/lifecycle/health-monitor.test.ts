import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HealthResult } from '../../src/backend/backend.js';
import { HealthMonitor, type HealthObservation } from '../../src/lifecycle/health-monitor.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function monitor(check: (signal: AbortSignal) => Promise<HealthResult>, functional?: typeof check) {
  const observations: HealthObservation[] = [];
  const m = new HealthMonitor({
    healthIntervalMs: 100,
    functionalHealthIntervalMs: 1_000,
    probeTimeoutMs: 50,
    check,
    ...(functional ? { functional } : {}),
    onObservation: (o) => observations.push(o),
  });
  return { m, observations };
}

describe('HealthMonitor', () => {
  it('checks every interval and counts consecutive failures, resetting on a healthy answer', async () => {
    const answers: HealthResult['status'][] = ['healthy', 'degraded', 'unavailable', 'healthy'];
    let i = 0;
    const { m, observations } = monitor(async () => ({ status: answers[i++] ?? 'healthy', detail: `#${i}` }));
    m.start();
    await vi.advanceTimersByTimeAsync(400);
    m.stop();
    expect(observations.map((o) => [o.status, o.consecutiveFailures])).toEqual([
      ['healthy', 0],
      ['degraded', 1],
      ['unavailable', 2],
      ['healthy', 0],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports a throwing or hanging check as unavailable', async () => {
    let i = 0;
    const { m, observations } = monitor(async () => {
      i += 1;
      if (i === 1) throw new Error('connect ECONNREFUSED');
      return new Promise<HealthResult>(() => {});
    });
    m.start();
    await vi.advanceTimersByTimeAsync(250);
    m.stop();
    expect(observations.map((o) => [o.status, o.detail, o.threw])).toEqual([
      ['unavailable', 'connect ECONNREFUSED', true],
      ['unavailable', 'check timed out after 50 ms', true],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs the functional check on its own interval and counter', async () => {
    const { m, observations } = monitor(
      async () => ({ status: 'healthy' }),
      async () => ({ status: 'degraded', detail: '1-token completion failed' }),
    );
    m.start();
    await vi.advanceTimersByTimeAsync(2_000);
    m.stop();
    const functional = observations.filter((o) => o.probe === 'functional');
    expect(functional.map((o) => o.consecutiveFailures)).toEqual([1, 2]);
    expect(m.failures('functional')).toBe(2);
    expect(m.failures('health')).toBe(0);
    expect(observations.filter((o) => o.probe === 'health')).toHaveLength(20);
  });

  it('aborts a check in flight on stop, reports nothing more and leaves no timer', async () => {
    let seen: AbortSignal | undefined;
    const { m, observations } = monitor((signal) => {
      seen = signal;
      return new Promise<HealthResult>(() => {});
    });
    m.start();
    await vi.advanceTimersByTimeAsync(120);
    m.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen?.aborted).toBe(true);
    expect(observations).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
