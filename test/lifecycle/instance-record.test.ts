import { describe, expect, it } from 'vitest';
import { applyInstanceChange, initialInstanceRecord } from '../../src/lifecycle/instance-record.js';

const fresh = () => initialInstanceRecord({ instanceId: 'i-1', instanceKey: 'k', backend: 'b' });

describe('instance record', () => {
  it('is a plain, frozen, JSON-serializable record that changes only into a new record', () => {
    const start = fresh();
    const ready = applyInstanceChange(start, {
      state: 'ready',
      health: 'healthy',
      readyAt: 5,
      timings: { readyMs: 5 },
    });
    expect(start.state).toBe('starting');
    expect(ready).toMatchObject({ state: 'ready', health: 'healthy', readyAt: 5, timings: { readyMs: 5 } });
    expect(Object.isFrozen(ready)).toBe(true);
    expect(Object.isFrozen(ready.timings)).toBe(true);
    expect(JSON.parse(JSON.stringify(ready))).toEqual(ready);
  });

  it('follows the lifecycle and refuses a transition it does not have', () => {
    let r = fresh();
    for (const state of ['ready', 'degraded', 'ready', 'starting', 'ready', 'stopping', 'stopped'] as const) {
      r = applyInstanceChange(r, { state });
    }
    expect(r.state).toBe('stopped');
    expect(() => applyInstanceChange(r, { state: 'ready' })).toThrow(/cannot go from stopped to ready/);
    const failed = applyInstanceChange(fresh(), { state: 'failed', lastError: { code: 'x', message: 'y' } });
    expect(() => applyInstanceChange(failed, { state: 'stopping' })).toThrow(/failed to stopping/);
    expect(() => applyInstanceChange(fresh(), { state: 'stopped' })).toThrow(/starting to stopped/);
    // Staying in a state (a health update) is not a transition.
    expect(applyInstanceChange(failed, { healthDetail: 'still failed' }).state).toBe('failed');
  });
});
