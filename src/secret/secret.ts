import { inspect } from 'node:util';

const marker = Symbol.for('self-hosted-inference-core.secret');
const REDACTED = '[redacted]';

/**
 * A value that never prints: `toString`, template strings, `JSON.stringify`, `util.inspect` and pino
 * all show `[redacted]`. Call `expose()` at the single place the real value is needed.
 */
export class Secret<T = string> {
  readonly [marker] = true;
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  /** Wraps a value unless it is already a Secret. */
  static from<T>(value: T | Secret<T>): Secret<T> {
    return Secret.isInstance(value) ? (value as Secret<T>) : new Secret(value as T);
  }

  /** True for a Secret made by any copy of this package. */
  static isInstance(value: unknown): value is Secret<unknown> {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /** Returns the real value. */
  expose(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

/** Returns the value of a Secret, or the plain value as is. */
export function exposeSecret<T>(value: T | Secret<T>): T {
  return Secret.isInstance(value) ? (value as Secret<T>).expose() : (value as T);
}
