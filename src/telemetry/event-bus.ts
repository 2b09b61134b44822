import type { KernelEvent, KernelEventListener, KernelEventMap, KernelEventName } from './kernel-events.js';

type AnyListener = (event: KernelEvent) => void;

/** A typed, synchronous event bus; a throwing listener never breaks the kernel. */
export class EventBus {
  readonly #listeners = new Map<string, Set<AnyListener>>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Subscribes to one event, or to all with `'*'`; returns the unsubscribe function. */
  on<K extends KernelEventName>(name: K, listener: KernelEventListener<K>): () => void;
  on(name: '*', listener: (event: KernelEvent) => void): () => void;
  on(name: string, listener: AnyListener): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(name);
    };
  }

  // Hot path (two events per warm ensure): no work without listeners, no copies unless a set is iterated.
  emit<K extends KernelEventName>(name: K, payload: KernelEventMap[K]): void {
    const named = this.#listeners.get(name);
    const all = this.#listeners.get('*');
    if (!named && !all) return;
    const event = Object.assign(payload, { type: name }) as unknown as KernelEvent;
    if (named) this.#deliver(named, event);
    if (all) this.#deliver(all, event);
  }

  #deliver(set: Set<AnyListener>, event: KernelEvent): void {
    // Copy only when several listeners could unsubscribe each other mid-delivery.
    for (const listener of set.size === 1 ? set : [...set]) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  /** Number of listeners, for leak checks in tests. */
  listenerCount(): number {
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }

  clear(): void {
    this.#listeners.clear();
  }
}
