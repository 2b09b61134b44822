const marker = Symbol.for('self-hosted-inference-core.kernel-error');

/** Context carried by every kernel error; all fields are optional and JSON-safe. */
export interface KernelErrorContext {
  /** Instance the failure concerns. */
  instanceId?: string;
  /** Backend id the failure concerns. */
  backend?: string;
  /** File or binary path the failure concerns. */
  path?: string;
  /** Last lines the process printed before the failure (stdout and stderr interleaved). */
  lastLogLines?: string[];
  /** Any further machine-readable detail. */
  details?: Record<string, unknown>;
  /** Underlying error. */
  cause?: unknown;
  /** Override the class's default retryability. */
  retryable?: boolean;
}

/**
 * Base class of every error the kernel throws. Assert on `code`, not on the message.
 * Use `KernelError.isInstance(e)` rather than `instanceof`: it works across duplicated copies of the package.
 */
export class KernelError extends Error {
  override name = 'KernelError';
  readonly [marker] = true;
  /** Stable, machine-readable error code (e.g. `process_exited`). */
  readonly code: string;
  /** True when the same call may succeed if retried unchanged. */
  readonly retryable: boolean;
  readonly instanceId?: string;
  readonly backend?: string;
  readonly path?: string;
  readonly lastLogLines?: string[];
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, context: KernelErrorContext = {}, retryable = false) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.retryable = context.retryable ?? retryable;
    if (context.instanceId !== undefined) this.instanceId = context.instanceId;
    if (context.backend !== undefined) this.backend = context.backend;
    if (context.path !== undefined) this.path = context.path;
    if (context.lastLogLines !== undefined) this.lastLogLines = context.lastLogLines;
    this.details = context.details ?? {};
  }

  /** True for any kernel error, including one thrown by another copy of this package. */
  static isInstance(error: unknown): error is KernelError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }

  /** A JSON-safe view used by logs, events and the control API. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.instanceId === undefined ? {} : { instanceId: this.instanceId }),
      ...(this.backend === undefined ? {} : { backend: this.backend }),
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.lastLogLines === undefined ? {} : { lastLogLines: this.lastLogLines }),
      details: this.details,
    };
  }
}
