import type { KernelEventMap } from './kernel-events.js';

/** One event of a map: its payload and its `type`. */
export type EventOf<M> = { [K in keyof M & string]: { type: K } & M[K] }[keyof M & string];

/**
 * A typed, synchronous event bus; a throwing listener never breaks the emitter. The kernel's carries
 * {@link KernelEventMap}; the gateway's carries its `request.*` events.
 */
export class EventBus<M extends object = KernelEventMap> {
  readonly #listeners = new Map<string, Set<(event: EventOf<M>) => void>>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Subscribes to one event, or to all with `'*'`; returns the unsubscribe function. */
  on<K extends keyof M & string>(name: K, listener: (event: M[K] & { type: K }) => void): () => void;
  on(name: '*', listener: (event: EventOf<M>) => void): () => void;
  on(name: string, listener: (event: never) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    const added = listener as (event: EventOf<M>) => void;
    set.add(added);
    return () => {
      set.delete(added);
      if (set.size === 0) this.#listeners.delete(name);
    };
  }

  // Hot path (two events per warm ensure): no work without listeners, no copies unless a set is iterated.
  emit<K extends keyof M & string>(name: K, payload: M[K]): void {
    const named = this.#listeners.get(name);
    const all = this.#listeners.get('*');
    if (!named && !all) return;
    const event = Object.assign(payload as object, { type: name }) as unknown as EventOf<M>;
    if (named) this.#deliver(named, event);
    if (all) this.#deliver(all, event);
  }

  #deliver(set: Set<(event: EventOf<M>) => void>, event: EventOf<M>): void {
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
