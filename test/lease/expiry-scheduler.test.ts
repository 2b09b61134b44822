import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExpiryScheduler } from '../../src/lease/expiry-scheduler.js';
import { systemClearTimer, systemClock, unrefSetTimer } from '../../src/lease/timer-source.js';

const START = 1_700_000_000_000;

function makeScheduler() {
  const expired: Array<{ keys: string[]; now: number }> = [];
  const scheduler = new ExpiryScheduler<string>({
    clock: systemClock,
    setTimer: unrefSetTimer,
    clearTimer: systemClearTimer,
    onExpired: (keys, now) => expired.push({ keys, now }),
  });
  return { scheduler, expired };
}

describe('ExpiryScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps a single timer for any number of deadlines and fires at the earliest one', () => {
    const { scheduler, expired } = makeScheduler();
    scheduler.set('b', START + 200);
    scheduler.set('a', START + 100);
    scheduler.set('c', START + 300);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([{ keys: ['a'], now: START + 100 }]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(200);
    expect(expired.map((e) => e.keys)).toEqual([['a'], ['b'], ['c']]);
    expect(vi.getTimerCount()).toBe(0);
    expect(scheduler.stats).toMatchObject({ expiryTicks: 3, leasesExpired: 3 });
  });

  it('keeps an earlier armed timer when the earliest deadline moves later, and re-arms on its no-op fire', () => {
    const { scheduler, expired } = makeScheduler();
    scheduler.set('a', START + 100);
    scheduler.set('a', START + 500);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([]);
    expect(scheduler.stats).toMatchObject({ expiryTicks: 1, leasesExpired: 0, heapOpsLastTick: 0 });
    expect(scheduler.armed).toBe(true);
    vi.advanceTimersByTime(400);
    expect(expired).toEqual([{ keys: ['a'], now: START + 500 }]);
  });

  it('re-arms at once for a deadline earlier than the armed one', () => {
    const { scheduler, expired } = makeScheduler();
    scheduler.set('late', START + 10_000);
    scheduler.set('soon', START + 10);
    vi.advanceTimersByTime(10);
    expect(expired).toEqual([{ keys: ['soon'], now: START + 10 }]);
  });

  it('clears its timer when the last key is removed', () => {
    const { scheduler } = makeScheduler();
    scheduler.set('a', START + 100);
    expect(scheduler.remove('a')).toBe(true);
    expect(scheduler.remove('a')).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    expect(scheduler.armed).toBe(false);
  });

  it('expires what is due on demand without counting a tick', () => {
    const { scheduler, expired } = makeScheduler();
    scheduler.set('a', START + 100);
    scheduler.set('b', START + 900);
    scheduler.expireDue(START + 100);
    expect(expired).toEqual([{ keys: ['a'], now: START + 100 }]);
    expect(scheduler.stats).toMatchObject({ expiryTicks: 0, leasesExpired: 1 });
    expect(scheduler.size).toBe(1);
  });

  it('leaves no timer behind after close and never fires again', () => {
    const { scheduler, expired } = makeScheduler();
    scheduler.set('a', START + 100);
    scheduler.close();
    scheduler.set('b', START + 50);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual([]);
  });
});
