import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../../src/lease/deadline-heap.js';

type Op =
  | { kind: 'set'; key: number; deadline: number }
  | { kind: 'remove'; key: number }
  | { kind: 'popExpired'; now: number };

/** The obviously-correct model: a map scanned in full, ties broken by scheduling order. */
class NaiveDeadlines {
  readonly entries = new Map<number, { deadline: number; seq: number }>();
  seq = 0;
  set(key: number, deadline: number) {
    this.entries.set(key, { deadline, seq: this.seq++ });
  }
  remove(key: number) {
    return this.entries.delete(key);
  }
  popExpired(now: number) {
    const due = [...this.entries].filter(([, e]) => e.deadline <= now);
    due.sort(([, a], [, b]) => a.deadline - b.deadline || a.seq - b.seq);
    for (const [key] of due) this.entries.delete(key);
    return due.map(([key]) => key);
  }
  earliest() {
    let min: number | undefined;
    for (const e of this.entries.values()) if (min === undefined || e.deadline < min) min = e.deadline;
    return min;
  }
}

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    key: fc.nat(30),
    deadline: fc.integer({ min: 0, max: 100 }),
  }),
  fc.record({ kind: fc.constant('remove' as const), key: fc.nat(30) }),
  fc.record({ kind: fc.constant('popExpired' as const), now: fc.integer({ min: -1, max: 110 }) }),
);

describe('DeadlineHeap', () => {
  it('pops only the keys whose deadline has passed, earliest first', () => {
    const heap = new DeadlineHeap<string>();
    heap.set('c', 30);
    heap.set('a', 10);
    heap.set('b', 20);
    heap.set('d', 40);
    expect(heap.popExpired(9)).toEqual([]);
    expect(heap.popExpired(25)).toEqual(['a', 'b']);
    expect(heap.size).toBe(2);
    expect(heap.peekKey()).toBe('c');
    expect(heap.peekDeadline()).toBe(30);
  });

  it('reschedules an existing key instead of adding it twice', () => {
    const heap = new DeadlineHeap<string>();
    heap.set('a', 10);
    heap.set('b', 20);
    heap.set('a', 50);
    expect(heap.size).toBe(2);
    expect(heap.deadlineOf('a')).toBe(50);
    expect(heap.popExpired(30)).toEqual(['b']);
    heap.set('a', 5);
    expect(heap.popExpired(5)).toEqual(['a']);
  });

  it('removes a key from the middle and reports whether it was scheduled', () => {
    const heap = new DeadlineHeap<number>();
    for (let i = 0; i < 10; i++) heap.set(i, i * 10);
    expect(heap.remove(4)).toBe(true);
    expect(heap.remove(4)).toBe(false);
    expect(heap.has(4)).toBe(false);
    expect(heap.popExpired(100)).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
    expect(heap.peekDeadline()).toBeUndefined();
  });

  it('pops equal deadlines in the order they were scheduled', () => {
    const heap = new DeadlineHeap<string>();
    for (const key of ['x', 'y', 'z', 'w']) heap.set(key, 7);
    heap.set('x', 7);
    expect(heap.popExpired(7)).toEqual(['y', 'z', 'w', 'x']);
  });

  it('rejects a NaN deadline without changing anything', () => {
    const heap = new DeadlineHeap<string>();
    expect(() => heap.set('a', Number.NaN)).toThrow(RangeError);
    expect(heap.size).toBe(0);
  });

  it('spends work proportional to what expired, not to the heap size', () => {
    const heap = new DeadlineHeap<number>();
    const n = 100_000;
    for (let i = 0; i < n; i++) heap.set(i, i);
    const before = heap.operations;
    expect(heap.popExpired(9)).toHaveLength(10);
    const work = heap.operations - before;
    expect(work).toBeLessThanOrEqual(10 * Math.ceil(Math.log2(n)));
    expect(work).toBeGreaterThan(0);
  });

  it('agrees with a naive model on random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 200 }), (ops) => {
        const heap = new DeadlineHeap<number>();
        const model = new NaiveDeadlines();
        for (const op of ops) {
          if (op.kind === 'set') {
            heap.set(op.key, op.deadline);
            model.set(op.key, op.deadline);
          } else if (op.kind === 'remove') {
            expect(heap.remove(op.key)).toBe(model.remove(op.key));
          } else {
            expect(heap.popExpired(op.now)).toEqual(model.popExpired(op.now));
          }
          expect(heap.size).toBe(model.entries.size);
          expect(heap.peekDeadline()).toBe(model.earliest());
        }
        expect(heap.popExpired(Number.POSITIVE_INFINITY)).toEqual(model.popExpired(Number.POSITIVE_INFINITY));
      }),
      { numRuns: 300 },
    );
  });
});
