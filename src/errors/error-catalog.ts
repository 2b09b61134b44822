import { KernelError, type KernelErrorContext } from './kernel-error.js';

/** One zod-style issue, flattened: where, what was wrong, what was received. */
export interface ContractIssue {
  /** Dotted path into the input, e.g. `targetPreference.backend`; empty for the root. */
  path: string;
  message: string;
  /** The value found at that path (secrets excluded by the caller). */
  received?: unknown;
}

function describeIssues(issues: ContractIssue[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
}

/** A value did not match a contract schema (`code` depends on the contract: `invalid_manifest`, …). */
export class ContractValidationError extends KernelError {
  override name = 'ContractValidationError';
  readonly contract: string;
  readonly issues: ContractIssue[];
  constructor(code: string, contract: string, issues: ContractIssue[], context: KernelErrorContext = {}) {
    super(code, `Invalid ${contract}: ${describeIssues(issues)}`, {
      ...context,
      details: { ...context.details, contract, issues },
    });
    this.contract = contract;
    this.issues = issues;
  }
}

/** A startup plan failed one of the truthfulness checks (STARTUP_PLAN_CHECKS in src/plan/validate-startup-plan.ts); nothing was started. */
export class InvalidStartupPlanError extends KernelError {
  override name = 'InvalidStartupPlanError';
  readonly check: string;
  constructor(check: string, message: string, context: KernelErrorContext = {}) {
    super('invalid_startup_plan', message, { ...context, details: { ...context.details, check } });
    this.check = check;
  }
}

/** The consumer cannot use this backend; `compatibility` says why (every failing check in `metadata.allFailures`). */
export class IncompatibleError extends KernelError {
  override name = 'IncompatibleError';
  readonly compatibility: unknown;
  constructor(message: string, compatibility: unknown, context: KernelErrorContext = {}) {
    super('incompatible', message, { ...context, details: { ...context.details, compatibility } });
    this.compatibility = compatibility;
  }
}

/** No backend with that id is registered; `knownBackends` lists the ones that are. */
export class UnknownBackendError extends KernelError {
  override name = 'UnknownBackendError';
  readonly knownBackends: string[];
  constructor(backend: string, knownBackends: string[]) {
    const known = knownBackends.length ? knownBackends.join(', ') : 'none registered';
    super('unknown_backend', `Unknown backend "${backend}". Known backends: ${known}.`, {
      backend,
      details: { knownBackends },
    });
    this.knownBackends = knownBackends;
  }
}

/** A backend with this id is already registered (pass `{ replace: true }` to swap it). */
export class DuplicateBackendError extends KernelError {
  override name = 'DuplicateBackendError';
  constructor(backend: string) {
    super(
      'duplicate_backend',
      `Backend "${backend}" is already registered; pass { replace: true } to replace it.`,
      { backend },
    );
  }
}

/** A program the backend needs is missing or does not run. */
export class BinaryNotFoundError extends KernelError {
  override name = 'BinaryNotFoundError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('binary_not_found', message, context);
  }
}

/** A model file or model name the backend needs does not exist. */
export class ModelNotFoundError extends KernelError {
  override name = 'ModelNotFoundError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('model_not_found', message, context);
  }
}

/** A model file exists but is not in the expected format. */
export class InvalidModelError extends KernelError {
  override name = 'InvalidModelError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('invalid_model', message, context);
  }
}

/** A backend's configuration (boot spec, attach spec, options) is invalid or unusable. */
export class InvalidBootSpecError extends KernelError {
  override name = 'InvalidBootSpecError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('invalid_boot_spec', message, context);
  }
}

/** No port could be bound after the allowed retries. */
export class PortUnavailableError extends KernelError {
  override name = 'PortUnavailableError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('port_unavailable', message, context, true);
  }
}

/** The process could not be started at all (missing command, bad cwd, permission). */
export class SpawnFailedError extends KernelError {
  override name = 'SpawnFailedError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('spawn_failed', message, context);
  }
}

/** The instance did not become ready in time, or stopped making progress (`details.reason`). */
export class ReadinessTimeoutError extends KernelError {
  override name = 'ReadinessTimeoutError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('readiness_timeout', message, context, true);
  }
}

/** The process exited (before it was ready, or while serving). */
export class ProcessExitedError extends KernelError {
  override name = 'ProcessExitedError';
  readonly exitCode: number | null;
  readonly signal: string | null;
  constructor(
    message: string,
    exit: { exitCode: number | null; signal: string | null },
    context: KernelErrorContext = {},
  ) {
    super('process_exited', message, { ...context, details: { ...context.details, ...exit } }, true);
    this.exitCode = exit.exitCode;
    this.signal = exit.signal;
  }
}

/** The instance crashed too often in the restart window; ensures fail fast until reset or stop. */
export class CrashLoopError extends KernelError {
  override name = 'CrashLoopError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('crash_loop', message, context);
  }
}

/** No live lease has this reference. */
export class LeaseNotFoundError extends KernelError {
  override name = 'LeaseNotFoundError';
  constructor(leaseRef: string) {
    super('lease_not_found', `No live lease "${leaseRef}" (it may have expired or been released).`, {
      details: { leaseRef },
    });
  }
}

/** No instance has this id. */
export class InstanceNotFoundError extends KernelError {
  override name = 'InstanceNotFoundError';
  constructor(instanceId: string) {
    super('instance_not_found', `No instance "${instanceId}".`, { instanceId });
  }
}

/** The instance holds its maximum number of leases (or an exclusive one) and no slot freed in time. */
export class CapacityExhaustedError extends KernelError {
  override name = 'CapacityExhaustedError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('capacity_exhausted', message, context, true);
  }
}

/** The backend does not run on this operating system or architecture. */
export class PlatformUnsupportedError extends KernelError {
  override name = 'PlatformUnsupportedError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('platform_unsupported', message, context);
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends KernelError {
  override name = 'AbortedError';
  constructor(message = 'The operation was aborted.', context: KernelErrorContext = {}) {
    super('aborted', message, context);
  }
}

/** The kernel (or instance) was closed; it accepts no new work. */
export class KernelClosedError extends KernelError {
  override name = 'KernelClosedError';
  constructor(message = 'The kernel is closed.') {
    super('kernel_closed', message);
  }
}

/** The instance was stopped while the operation was in progress. */
export class InstanceStoppedError extends KernelError {
  override name = 'InstanceStoppedError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('instance_stopped', message, context, true);
  }
}

/** A `shic.yaml` (or other config) is invalid; `issues` name each YAML path with its line and column. */
export class InvalidConfigError extends KernelError {
  override name = 'InvalidConfigError';
  /** Each problem: dotted YAML path, message, and (when read from a file) 1-based line and column. */
  readonly issues: Array<ContractIssue & { line?: number; column?: number }>;
  constructor(
    message: string,
    issues: Array<ContractIssue & { line?: number; column?: number }>,
    context: KernelErrorContext = {},
  ) {
    super('invalid_config', message, { ...context, details: { ...context.details, issues } });
    this.issues = issues;
  }
}

/** The config names no deployment with this name; `knownDeployments` lists the ones it has. */
export class UnknownDeploymentError extends KernelError {
  override name = 'UnknownDeploymentError';
  constructor(deployment: string, knownDeployments: string[]) {
    const known = knownDeployments.length ? knownDeployments.join(', ') : 'none declared';
    super('unknown_deployment', `Unknown deployment "${deployment}". Declared deployments: ${known}.`, {
      details: { deployment, knownDeployments },
    });
  }
}

/** Another `shic up` already owns this state directory. */
export class DaemonRunningError extends KernelError {
  override name = 'DaemonRunningError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('daemon_running', message, context);
  }
}

/** No `shic up` daemon answers for this state directory (not started, or its files are stale). */
export class DaemonUnreachableError extends KernelError {
  override name = 'DaemonUnreachableError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('daemon_unreachable', message, context, true);
  }
}

/** A backend hook threw something that is not a `KernelError` (a bug in the backend); `cause` holds it. */
export class BackendFailedError extends KernelError {
  override name = 'BackendFailedError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('backend_error', message, context);
  }
}

/** Nothing listens at an attached service's address (connection refused past its connect timeout). */
export class ServiceUnreachableError extends KernelError {
  override name = 'ServiceUnreachableError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('service_unreachable', message, context, true);
  }
}

/** A gateway request names a `model` no deployment serves; `knownModels` lists what it routes. */
export class UnknownModelError extends KernelError {
  override name = 'UnknownModelError';
  constructor(model: string, knownModels: string[]) {
    const known = knownModels.length ? knownModels.join(', ') : 'none';
    super('unknown_model', `The model "${model}" does not exist here. Available models: ${known}.`, {
      details: { model, knownModels },
    });
  }
}

/** Too many gateway requests already wait for this deployment; retry after `retryAfterS`. */
export class QueueFullError extends KernelError {
  override name = 'QueueFullError';
  readonly retryAfterS: number;
  constructor(deployment: string, waiting: number, retryAfterS: number) {
    super(
      'queue_full',
      `${waiting} requests already wait for "${deployment}" (the gateway's maxQueue); retry in ${retryAfterS} s.`,
      { details: { deployment, waiting, retryAfterS } },
      true,
    );
    this.retryAfterS = retryAfterS;
  }
}

/** Which gateway deadline passed: waiting for the model, the upstream's first byte, a gap between chunks, or the whole request. */
export type GatewayTimeoutPhase = 'model_wait' | 'first_byte' | 'idle' | 'total';

/** A gateway request passed one of its deadlines (code `<phase>_timeout`, e.g. `model_wait_timeout`). */
export class GatewayTimeoutError extends KernelError {
  override name = 'GatewayTimeoutError';
  readonly phase: GatewayTimeoutPhase;
  constructor(
    phase: GatewayTimeoutPhase,
    timeoutMs: number,
    message: string,
    context: KernelErrorContext = {},
  ) {
    super(
      `${phase}_timeout`,
      message,
      { ...context, details: { ...context.details, phase, timeoutMs } },
      true,
    );
    this.phase = phase;
  }
}

/** The gateway could not reach a model server, or it failed before answering (after the one safe retry). */
export class UpstreamFailedError extends KernelError {
  override name = 'UpstreamFailedError';
  constructor(message: string, context: KernelErrorContext = {}) {
    super('upstream_failed', message, context, true);
  }
}

/** One instance holding memory that an admission could not take, and why it could not be evicted. */
export interface MemoryHolder {
  instanceId: string;
  backend: string;
  /** Bytes it is charged per device. */
  bytes: Record<string, number>;
  /** `leased`, `pinned`, `starting` (still loading), `claimed` (a caller is about to lease it), `evicting`. */
  reason: string;
}

/**
 * An instance cannot be given the memory it needs: it is bigger than the whole budget (`never: true`, at once),
 * or its queue deadline passed while leased, pinned or loading instances held the memory (guides/residency.md).
 */
export class InsufficientMemoryError extends KernelError {
  override name = 'InsufficientMemoryError';
  constructor(
    message: string,
    details: {
      need: Record<string, number>;
      budget: Record<string, number>;
      free: Record<string, number>;
      holders: MemoryHolder[];
      never: boolean;
      waitedMs: number;
    },
    context: { instanceId?: string; backend?: string } = {},
  ) {
    super('insufficient_memory', message, { ...context, details: { ...details } }, !details.never);
  }
}
