import { describe, expect, it } from 'vitest';
import * as catalog from '../../src/errors/error-catalog.js';
import { KernelError } from '../../src/errors/kernel-error.js';

const cause = new Error('root cause');

// One row per class: how to build it with a cause, its stable code and default retryability.
const rows: {
  type: new (...args: never[]) => KernelError;
  make: () => KernelError;
  code: string;
  retryable: boolean;
}[] = [
  {
    type: catalog.ContractValidationError,
    make: () => new catalog.ContractValidationError('invalid_manifest', 'BackendManifest', [], { cause }),
    code: 'invalid_manifest',
    retryable: false,
  },
  {
    type: catalog.InvalidStartupPlanError,
    make: () => new catalog.InvalidStartupPlanError('schema', 'm', { cause }),
    code: 'invalid_startup_plan',
    retryable: false,
  },
  {
    type: catalog.IncompatibleError,
    make: () => new catalog.IncompatibleError('m', { reason: 'x' }, { cause }),
    code: 'incompatible',
    retryable: false,
  },
  {
    type: catalog.UnknownBackendError,
    make: () => new catalog.UnknownBackendError('x', []),
    code: 'unknown_backend',
    retryable: false,
  },
  {
    type: catalog.DuplicateBackendError,
    make: () => new catalog.DuplicateBackendError('x'),
    code: 'duplicate_backend',
    retryable: false,
  },
  {
    type: catalog.BinaryNotFoundError,
    make: () => new catalog.BinaryNotFoundError('m', { cause }),
    code: 'binary_not_found',
    retryable: false,
  },
  {
    type: catalog.ModelNotFoundError,
    make: () => new catalog.ModelNotFoundError('m', { cause }),
    code: 'model_not_found',
    retryable: false,
  },
  {
    type: catalog.InvalidModelError,
    make: () => new catalog.InvalidModelError('m', { cause }),
    code: 'invalid_model',
    retryable: false,
  },
  {
    type: catalog.InvalidBootSpecError,
    make: () => new catalog.InvalidBootSpecError('m', { cause }),
    code: 'invalid_boot_spec',
    retryable: false,
  },
  {
    type: catalog.PortUnavailableError,
    make: () => new catalog.PortUnavailableError('m', { cause }),
    code: 'port_unavailable',
    retryable: true,
  },
  {
    type: catalog.SpawnFailedError,
    make: () => new catalog.SpawnFailedError('m', { cause }),
    code: 'spawn_failed',
    retryable: false,
  },
  {
    type: catalog.ReadinessTimeoutError,
    make: () => new catalog.ReadinessTimeoutError('m', { cause }),
    code: 'readiness_timeout',
    retryable: true,
  },
  {
    type: catalog.ProcessExitedError,
    make: () => new catalog.ProcessExitedError('m', { exitCode: 1, signal: null }, { cause }),
    code: 'process_exited',
    retryable: true,
  },
  {
    type: catalog.CrashLoopError,
    make: () => new catalog.CrashLoopError('m', { cause }),
    code: 'crash_loop',
    retryable: false,
  },
  {
    type: catalog.LeaseNotFoundError,
    make: () => new catalog.LeaseNotFoundError('l'),
    code: 'lease_not_found',
    retryable: false,
  },
  {
    type: catalog.InstanceNotFoundError,
    make: () => new catalog.InstanceNotFoundError('i'),
    code: 'instance_not_found',
    retryable: false,
  },
  {
    type: catalog.CapacityExhaustedError,
    make: () => new catalog.CapacityExhaustedError('m', { cause }),
    code: 'capacity_exhausted',
    retryable: true,
  },
  {
    type: catalog.PlatformUnsupportedError,
    make: () => new catalog.PlatformUnsupportedError('m', { cause }),
    code: 'platform_unsupported',
    retryable: false,
  },
  {
    type: catalog.AbortedError,
    make: () => new catalog.AbortedError('m', { cause }),
    code: 'aborted',
    retryable: false,
  },
  {
    type: catalog.KernelClosedError,
    make: () => new catalog.KernelClosedError(),
    code: 'kernel_closed',
    retryable: false,
  },
  {
    type: catalog.InstanceStoppedError,
    make: () => new catalog.InstanceStoppedError('m', { cause }),
    code: 'instance_stopped',
    retryable: true,
  },
  {
    type: catalog.InvalidConfigError,
    make: () => new catalog.InvalidConfigError('m', [], { cause }),
    code: 'invalid_config',
    retryable: false,
  },
  {
    type: catalog.UnknownDeploymentError,
    make: () => new catalog.UnknownDeploymentError('d', []),
    code: 'unknown_deployment',
    retryable: false,
  },
  {
    type: catalog.DaemonRunningError,
    make: () => new catalog.DaemonRunningError('m', { cause }),
    code: 'daemon_running',
    retryable: false,
  },
  {
    type: catalog.DaemonUnreachableError,
    make: () => new catalog.DaemonUnreachableError('m', { cause }),
    code: 'daemon_unreachable',
    retryable: true,
  },
  {
    type: catalog.BackendFailedError,
    make: () => new catalog.BackendFailedError('m', { cause }),
    code: 'backend_error',
    retryable: false,
  },
  {
    type: catalog.ServiceUnreachableError,
    make: () => new catalog.ServiceUnreachableError('m', { cause }),
    code: 'service_unreachable',
    retryable: true,
  },
  {
    type: catalog.UnknownModelError,
    make: () => new catalog.UnknownModelError('m', ['a']),
    code: 'unknown_model',
    retryable: false,
  },
  {
    type: catalog.QueueFullError,
    make: () => new catalog.QueueFullError('d', 3, 5),
    code: 'queue_full',
    retryable: true,
  },
  {
    type: catalog.GatewayTimeoutError,
    make: () => new catalog.GatewayTimeoutError('first_byte', 10, 'm', { cause }),
    code: 'first_byte_timeout',
    retryable: true,
  },
  {
    type: catalog.UpstreamFailedError,
    make: () => new catalog.UpstreamFailedError('m', { cause }),
    code: 'upstream_failed',
    retryable: true,
  },
  {
    type: catalog.InsufficientMemoryError,
    make: () =>
      new catalog.InsufficientMemoryError('no room', {
        need: { system: 2 },
        budget: { system: 1 },
        free: { system: 1 },
        holders: [],
        never: true,
        waitedMs: 0,
      }),
    code: 'insufficient_memory',
    retryable: false,
  },
];

describe('error catalog', () => {
  it('has one row here for every error class the catalog exports', () => {
    const exported = Object.values(catalog).filter(
      (value) => typeof value === 'function' && value.prototype instanceof KernelError,
    );
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(exported));
  });

  it('gives every class a distinct stable code', () => {
    const codes = rows.map((r) => r.make().code);
    expect(new Set(codes).size).toBe(rows.length);
    for (const code of codes) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it.each(rows)(
    '$type.name has code $code, retryable $retryable, its own name and the KernelError marker',
    (row) => {
      const error = row.make();
      expect(error).toBeInstanceOf(row.type);
      expect(error.code).toBe(row.code);
      expect(error.retryable).toBe(row.retryable);
      expect(error.name).toBe(row.type.name);
      expect(KernelError.isInstance(error)).toBe(true);
      expect(error.toJSON()).toMatchObject({ name: row.type.name, code: row.code, retryable: row.retryable });
    },
  );

  it.each(rows.filter((r) => r.make().cause !== undefined))('$type.name passes cause through', (row) => {
    expect(row.make().cause).toBe(cause);
  });

  it('lets a caller override the default retryability', () => {
    expect(new catalog.PortUnavailableError('m', { retryable: false }).retryable).toBe(false);
    expect(new catalog.SpawnFailedError('m', { retryable: true }).retryable).toBe(true);
  });

  it('keeps class-specific context fields in details for JSON consumers', () => {
    expect(new catalog.UnknownBackendError('x', ['a', 'b']).toJSON()).toMatchObject({
      backend: 'x',
      details: { knownBackends: ['a', 'b'] },
    });
    expect(new catalog.InvalidStartupPlanError('schema', 'm', { details: { declared: 1 } }).details).toEqual({
      declared: 1,
      check: 'schema',
    });
    const exited = new catalog.ProcessExitedError('m', { exitCode: null, signal: 'SIGKILL' });
    expect([exited.exitCode, exited.signal]).toEqual([null, 'SIGKILL']);
    expect(exited.details).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(new catalog.LeaseNotFoundError('lease-9').details).toEqual({ leaseRef: 'lease-9' });
    expect(new catalog.InstanceNotFoundError('inst-9').instanceId).toBe('inst-9');
  });

  it('tells the user what to do in registry errors', () => {
    expect(new catalog.UnknownBackendError('x', []).message).toContain('none registered');
    expect(new catalog.UnknownBackendError('x', ['a', 'b']).message).toContain('Known backends: a, b.');
    expect(new catalog.DuplicateBackendError('x').message).toContain('{ replace: true }');
  });
});
