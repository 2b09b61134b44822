import { describe, expect, it } from 'vitest';
import { LogRing } from '../../src/process/log-ring.js';

describe('LogRing', () => {
  it('keeps the last maxLines lines, oldest first, and counts every line pushed', () => {
    const ring = new LogRing({ maxLines: 3 });
    for (let i = 0; i < 10; i++) ring.push('stdout', `line ${i}`);
    expect(ring.lines()).toEqual(['line 7', 'line 8', 'line 9']);
    expect(ring.lines(2)).toEqual(['line 8', 'line 9']);
    expect(ring.lines(0)).toEqual([]);
    expect(ring.totalLines).toBe(10);
  });

  it('drops the oldest lines once the kept bytes exceed maxBytes', () => {
    const ring = new LogRing({ maxLines: 1000, maxBytes: 100 });
    for (let i = 0; i < 50; i++) ring.push('stderr', `${String(i).padStart(2, '0')}${'x'.repeat(18)}`);
    const kept = ring.lines();
    expect(kept.reduce((n, l) => n + Buffer.byteLength(l), 0)).toBeLessThanOrEqual(100);
    expect(kept).toHaveLength(5);
    expect(kept.at(-1)?.startsWith('49')).toBe(true);
  });

  it('keeps the tail of a single line larger than maxBytes', () => {
    const ring = new LogRing({ maxBytes: 10 });
    ring.push('stderr', `${'a'.repeat(100)}error: end`);
    expect(ring.lines()).toEqual(['error: end']);
  });

  it('records stream and time per entry and notifies line listeners until they unsubscribe', () => {
    const ring = new LogRing();
    const seen: string[] = [];
    const off = ring.onLine((e) => seen.push(`${e.stream}:${e.line}`));
    const before = Date.now();
    ring.push('stdout', 'one');
    ring.push('stderr', 'two');
    off();
    ring.push('stdout', 'three');
    expect(seen).toEqual(['stdout:one', 'stderr:two']);
    expect(ring.listenerCount).toBe(0);
    const entries = ring.entries();
    expect(entries.map((e) => e.stream)).toEqual(['stdout', 'stderr', 'stdout']);
    expect(entries[0]!.at).toBeGreaterThanOrEqual(before);
  });

  it('clear empties the ring and resets the count', () => {
    const ring = new LogRing();
    ring.push('stdout', 'x');
    ring.clear();
    expect(ring.lines()).toEqual([]);
    expect(ring.totalLines).toBe(0);
  });

  it('stays correct across many pushes (internal compaction)', () => {
    const ring = new LogRing({ maxLines: 5 });
    for (let i = 0; i < 5000; i++) ring.push('stdout', String(i));
    expect(ring.lines()).toEqual(['4995', '4996', '4997', '4998', '4999']);
    expect(ring.size).toBe(5);
  });
});
