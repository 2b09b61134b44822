import { KernelError } from 'self-hosted-inference-core';

const marker = Symbol.for('self-hosted-inference-core.provision-error');

/** Stable codes of provisioning failures. */
export type ProvisionErrorCode = 'provision_failed' | 'build_tools_missing';

/** Context carried by a {@link ProvisionError}. */
export interface ProvisionErrorContext {
  /** Build/fetch log file, when one was written. */
  logFile?: string;
  /** Last lines of the log file (oldest first). */
  lastLines?: string[];
  /** Tools that were not found (`build_tools_missing` only), e.g. `['cmake', 'C++ compiler']`. */
  missing?: string[];
  /** The phase that failed. */
  phase?: string;
  /** Underlying error. */
  cause?: unknown;
}

/** Failure while resolving, fetching or building `llama-server`; a `KernelError` like every other failure. */
export class ProvisionError extends KernelError {
  override name = 'ProvisionError';
  readonly [marker] = true;
  declare readonly code: ProvisionErrorCode;
  /** Log file with the full output of the failing step, if any. */
  readonly logFile: string | undefined;
  /** Last log lines (oldest first); empty when no log was written. */
  readonly lastLines: readonly string[];
  /** Missing build tools (`build_tools_missing` only). */
  readonly missing: readonly string[];
  /** Phase that failed (`resolve`, `fetch`, `clone`, `configure`, `build`). */
  readonly phase: string | undefined;

  constructor(code: ProvisionErrorCode, message: string, context: ProvisionErrorContext = {}) {
    super(code, message, {
      cause: context.cause,
      ...(context.logFile === undefined ? {} : { path: context.logFile }),
      ...(context.lastLines === undefined ? {} : { lastLogLines: context.lastLines }),
      details: { phase: context.phase, missing: context.missing ?? [] },
      // A network fetch may succeed when tried again; a failed build or a missing tool will not.
      retryable: context.phase === 'fetch',
    });
    this.logFile = context.logFile;
    this.lastLines = context.lastLines ?? [];
    this.missing = context.missing ?? [];
    this.phase = context.phase;
  }

  /** Works across duplicate copies of this module, unlike `instanceof`. */
  static override isInstance(error: unknown): error is ProvisionError {
    return typeof error === 'object' && error !== null && marker in error;
  }
}
