interface HeapEntry<K> {
  key: K;
  /** Epoch ms (or any monotonic number) at which the key is due. */
  deadline: number;
  /** Scheduling order, so equal deadlines pop first-scheduled first. */
  seq: number;
  /** Position in the heap array, kept current by every move. */
  index: number;
}

/**
 * A binary min-heap of `(deadline, key)` pairs with a key → position index, so rescheduling and removing a key
 * are O(log n) and popping what is due costs O(expired · log n). Keys are unique; equal deadlines pop in the
 * order they were scheduled.
 */
export class DeadlineHeap<K> {
  readonly #heap: HeapEntry<K>[] = [];
  readonly #byKey = new Map<K, HeapEntry<K>>();
  #seq = 0;
  #operations = 0;

  /** Number of scheduled keys. */
  get size(): number {
    return this.#heap.length;
  }

  /** Sift steps performed since construction; a work counter for tests and stats, not a clock. */
  get operations(): number {
    return this.#operations;
  }

  has(key: K): boolean {
    return this.#byKey.has(key);
  }

  /** The key's deadline, or `undefined` when the key is not scheduled. */
  deadlineOf(key: K): number | undefined {
    return this.#byKey.get(key)?.deadline;
  }

  /** The earliest deadline, or `undefined` when the heap is empty. O(1). */
  peekDeadline(): number | undefined {
    return this.#heap[0]?.deadline;
  }

  /** The key with the earliest deadline, or `undefined` when the heap is empty. O(1). */
  peekKey(): K | undefined {
    return this.#heap[0]?.key;
  }

  /**
   * Schedules `key` at `deadline`, or reschedules it if already present. O(log n).
   * @throws {RangeError} when `deadline` is NaN.
   */
  set(key: K, deadline: number): void {
    if (Number.isNaN(deadline)) throw new RangeError('DeadlineHeap.set: deadline must be a number, got NaN.');
    const existing = this.#byKey.get(key);
    if (existing) {
      const earlier = deadline < existing.deadline;
      existing.deadline = deadline;
      existing.seq = this.#seq++;
      if (earlier) this.#siftUp(existing.index);
      else this.#siftDown(existing.index);
      return;
    }
    const entry: HeapEntry<K> = { key, deadline, seq: this.#seq++, index: this.#heap.length };
    this.#heap.push(entry);
    this.#byKey.set(key, entry);
    this.#siftUp(entry.index);
  }

  /** Unschedules `key`; returns false when it was not scheduled. O(log n). */
  remove(key: K): boolean {
    const entry = this.#byKey.get(key);
    if (!entry) return false;
    this.#removeAt(entry.index);
    return true;
  }

  /** Removes and returns every key whose deadline is `<= now`, earliest first. O(expired · log n). */
  popExpired(now: number): K[] {
    const expired: K[] = [];
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.deadline <= now) {
      expired.push(heap[0]!.key);
      this.#removeAt(0);
    }
    return expired;
  }

  clear(): void {
    this.#heap.length = 0;
    this.#byKey.clear();
  }

  #removeAt(index: number): void {
    const heap = this.#heap;
    const entry = heap[index]!;
    this.#byKey.delete(entry.key);
    const last = heap.pop()!;
    if (index === heap.length) return;
    heap[index] = last;
    last.index = index;
    // The moved entry may belong above or below its new position.
    if (index > 0 && this.#less(last, heap[(index - 1) >> 1]!)) this.#siftUp(index);
    else this.#siftDown(index);
  }

  #less(a: HeapEntry<K>, b: HeapEntry<K>): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  #siftUp(index: number): void {
    const heap = this.#heap;
    const entry = heap[index]!;
    while (index > 0) {
      this.#operations++;
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!this.#less(entry, parent)) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry.index = index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const entry = heap[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      this.#operations++;
      const right = left + 1;
      const child = right < length && this.#less(heap[right]!, heap[left]!) ? right : left;
      const childEntry = heap[child]!;
      if (!this.#less(childEntry, entry)) break;
      heap[index] = childEntry;
      childEntry.index = index;
      index = child;
    }
    heap[index] = entry;
    entry.index = index;
  }
}
