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

// TODO(lead): rebase onto KernelError from the error catalog once it lands.
/** Failure while resolving, fetching or building `llama-server`. */
export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
  readonly [marker] = true;
  /** Stable machine-readable code; assert on this, not on the message. */
  readonly code: ProvisionErrorCode;
  /** Log file with the full output of the failing step, if any. */
  readonly logFile: string | undefined;
  /** Last log lines (oldest first); empty when no log was written. */
  readonly lastLines: readonly string[];
  /** Missing build tools (`build_tools_missing` only). */
  readonly missing: readonly string[];
  /** Phase that failed (`resolve`, `fetch`, `clone`, `configure`, `build`). */
  readonly phase: string | undefined;
  /** Whether retrying the same call may succeed (e.g. a network fetch). */
  readonly retryable: boolean;

  constructor(code: ProvisionErrorCode, message: string, context: ProvisionErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.logFile = context.logFile;
    this.lastLines = context.lastLines ?? [];
    this.missing = context.missing ?? [];
    this.phase = context.phase;
    this.retryable = context.phase === 'fetch';
  }

  /** Works across duplicate copies of this module, unlike `instanceof`. */
  static isInstance(error: unknown): error is ProvisionError {
    return typeof error === 'object' && error !== null && marker in error;
  }
}
