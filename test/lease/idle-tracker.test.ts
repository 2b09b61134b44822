import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleTracker } from '../../src/lease/idle-tracker.js';

const START = 1_700_000_000_000;

function makeTracker() {
  const idled: Array<{ instanceId: string; at: number }> = [];
  const tracker = new IdleTracker({ onIdle: (instanceId) => idled.push({ instanceId, at: Date.now() }) });
  return { tracker, idled };
}

describe('IdleTracker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('calls onIdle once after idleShutdownMs of idleness and forgets the instance', () => {
    const { tracker, idled } = makeTracker();
    tracker.markIdle('inst-1', 5_000);
    expect(tracker.isIdle('inst-1')).toBe(true);
    expect(tracker.idleDeadline('inst-1')).toBe(START + 5_000);
    vi.advanceTimersByTime(4_999);
    expect(idled).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(idled).toEqual([{ instanceId: 'inst-1', at: START + 5_000 }]);
    expect(tracker.isIdle('inst-1')).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(idled).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels the idle timer when the instance becomes busy', () => {
    const { tracker, idled } = makeTracker();
    tracker.markIdle('inst-1', 5_000);
    vi.advanceTimersByTime(3_000);
    tracker.markBusy('inst-1');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(idled).toEqual([]);
    tracker.markIdle('inst-1', 5_000);
    vi.advanceTimersByTime(5_000);
    expect(idled).toEqual([{ instanceId: 'inst-1', at: START + 18_000 }]);
  });

  it('does not postpone the shutdown when an idle instance is marked idle again', () => {
    const { tracker, idled } = makeTracker();
    tracker.markIdle('inst-1', 5_000);
    vi.advanceTimersByTime(4_000);
    tracker.markIdle('inst-1', 5_000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(idled).toEqual([{ instanceId: 'inst-1', at: START + 5_000 }]);
  });

  it('counts a changed idleShutdownMs from when the instance became idle', () => {
    const { tracker, idled } = makeTracker();
    tracker.markIdle('inst-1', 10_000);
    vi.advanceTimersByTime(2_000);
    tracker.markIdle('inst-1', 3_000);
    vi.advanceTimersByTime(1_000);
    expect(idled).toEqual([{ instanceId: 'inst-1', at: START + 3_000 }]);
  });

  it('never idles out an instance marked idle with null, but still tracks it as idle', () => {
    const { tracker, idled } = makeTracker();
    tracker.markIdle('inst-1', null);
    expect(vi.getTimerCount()).toBe(0);
    expect(tracker.isIdle('inst-1')).toBe(true);
    expect(tracker.idleDeadline('inst-1')).toBe(Number.POSITIVE_INFINITY);
    vi.advanceTimersByTime(10 ** 9);
    expect(idled).toEqual([]);
  });

  it('idles out at once with idleShutdownMs 0', () => {
    const { tracker, idled } = makeTracker();
    tracker.markIdle('inst-1', 0);
    vi.advanceTimersByTime(0);
    expect(idled.map((e) => e.instanceId)).toEqual(['inst-1']);
  });

  it('tracks instances independently', () => {
    const { tracker, idled } = makeTracker();
    tracker.markIdle('a', 1_000);
    tracker.markIdle('b', 2_000);
    tracker.markIdle('c', 3_000);
    expect(tracker.size).toBe(3);
    tracker.forget('b');
    vi.advanceTimersByTime(3_000);
    expect(idled.map((e) => e.instanceId)).toEqual(['a', 'c']);
    expect(tracker.size).toBe(0);
  });

  it('re-arms a timer that fires before the deadline when the delay exceeds the setTimeout maximum', () => {
    const { tracker, idled } = makeTracker();
    const thirtyDays = 30 * 24 * 3600 * 1000;
    tracker.markIdle('inst-1', thirtyDays);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(idled).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(thirtyDays - (2 ** 31 - 1));
    expect(idled).toEqual([{ instanceId: 'inst-1', at: START + thirtyDays }]);
  });

  it('keeps tracking other instances when onIdle throws', () => {
    const idled: string[] = [];
    const tracker = new IdleTracker({
      onIdle: (id) => {
        idled.push(id);
        if (id === 'a') throw new Error('stop failed');
      },
    });
    tracker.markIdle('a', 100);
    tracker.markIdle('b', 200);
    vi.advanceTimersByTime(200);
    expect(idled).toEqual(['a', 'b']);
  });

  it('rejects a negative or non-numeric idleShutdownMs with invalid_argument and arms nothing', () => {
    const { tracker } = makeTracker();
    expect(() => tracker.markIdle('inst-1', -1)).toThrow(
      expect.objectContaining({ code: 'invalid_argument', instanceId: 'inst-1' }),
    );
    expect(() => tracker.markIdle('inst-1', Number.NaN)).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    expect(tracker.isIdle('inst-1')).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer behind after close and ignores later marks', () => {
    const { tracker, idled } = makeTracker();
    tracker.markIdle('a', 1_000);
    tracker.markIdle('b', 2_000);
    expect(vi.getTimerCount()).toBe(2);
    tracker.close();
    expect(vi.getTimerCount()).toBe(0);
    tracker.markIdle('c', 1_000);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5_000);
    expect(idled).toEqual([]);
  });
});
