import { describe, expect, it } from 'vitest';
import { type CapacityWaiter, CapacityWaiterQueue } from '../../src/lease/capacity-waiter.js';

function waiter(ownerRef: string): CapacityWaiter {
  return {
    request: { instanceId: 'i', backend: 'b', ownerRef },
    enqueuedAt: 0,
    resolve: () => {},
    reject: () => {},
    cleanup: () => {},
    prev: undefined,
    next: undefined,
    queue: undefined,
  };
}

describe('CapacityWaiterQueue', () => {
  it('keeps first-in first-out order and unlinks a waiter from the middle', () => {
    const queue = new CapacityWaiterQueue();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(waiter) as [
      CapacityWaiter,
      CapacityWaiter,
      CapacityWaiter,
      CapacityWaiter,
    ];
    for (const w of [a, b, c, d]) queue.push(w);
    expect(queue.remove(c)).toBe(true);
    expect(queue.remove(c)).toBe(false);
    expect(queue.size).toBe(3);
    expect(queue.peek()).toBe(a);
    expect(queue.remove(a)).toBe(true);
    expect(queue.peek()).toBe(b);
    expect(queue.takeAll().map((w) => w.request.ownerRef)).toEqual(['b', 'd']);
    expect(queue.size).toBe(0);
    expect(queue.peek()).toBeUndefined();
  });

  it('refuses to remove a waiter that belongs to another queue', () => {
    const one = new CapacityWaiterQueue();
    const two = new CapacityWaiterQueue();
    const w = waiter('x');
    one.push(w);
    expect(two.remove(w)).toBe(false);
    expect(one.size).toBe(1);
  });
});
