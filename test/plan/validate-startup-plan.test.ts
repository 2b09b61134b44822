import { describe, expect, it } from 'vitest';
import type { BackendManifest } from '../../src/contracts/backend-manifest.js';
import type { InstanceSpec } from '../../src/contracts/instance-spec.js';
import { InvalidStartupPlanError } from '../../src/errors/error-catalog.js';
import { KernelError } from '../../src/errors/kernel-error.js';
import { STARTUP_PLAN_CHECKS, validateStartupPlan } from '../../src/plan/validate-startup-plan.js';
import {
  attachedManifest,
  attachedPlanInput,
  attachedSpec,
  spawnedManifest,
  spawnedPlanInput,
  spawnedSpec,
} from '../support/manifests.js';

const localTransport = { command: process.execPath, args: ['--version'] };

// Runs the validation and returns the error it throws; fails the test when it does not throw.
function rejectionOf(manifest: BackendManifest, spec: InstanceSpec, plan: unknown): InvalidStartupPlanError {
  try {
    validateStartupPlan(manifest, spec, plan);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidStartupPlanError);
    return error as InvalidStartupPlanError;
  }
  throw new Error('expected validateStartupPlan to throw');
}

interface Case {
  check: string;
  manifest: BackendManifest;
  spec: InstanceSpec;
  plan: Record<string, unknown>;
  declared: unknown;
  actual: unknown;
}

// One plan per check that fails that check and no other, listed in SHIC's order.
const singleFailures: Case[] = [
  {
    check: 'requested_startup_kind',
    manifest: spawnedManifest(),
    spec: spawnedSpec({ startupKind: 'attach_existing_service' }),
    plan: spawnedPlanInput(),
    declared: 'attach_existing_service',
    actual: 'spawned',
  },
  {
    check: 'manifest_startup_kind',
    manifest: spawnedManifest(),
    spec: spawnedSpec({ startupKind: undefined }),
    plan: attachedPlanInput(),
    declared: 'spawned',
    actual: 'attach_existing_service',
  },
  {
    check: 'startup_kind_management_mode_pair',
    manifest: spawnedManifest(),
    spec: spawnedSpec(),
    plan: spawnedPlanInput({ managementMode: 'externally_managed' }),
    declared: 'kernel_managed',
    actual: 'externally_managed',
  },
  {
    check: 'spawned_requires_transport',
    manifest: spawnedManifest(),
    spec: spawnedSpec(),
    plan: spawnedPlanInput({ transport: undefined }),
    declared: 'transport',
    actual: undefined,
  },
  {
    check: 'execution_surface_shape',
    manifest: spawnedManifest({ supportedSurfaces: ['local_subprocess', 'container'] }),
    spec: spawnedSpec({ executionSurface: 'container' }),
    plan: spawnedPlanInput({ transport: { ...localTransport, executionSurface: 'local_subprocess' } }),
    declared: 'container',
    actual: 'local_subprocess',
  },
  {
    check: 'execution_surface_supported',
    manifest: spawnedManifest({ supportedSurfaces: ['local_subprocess'] }),
    spec: spawnedSpec(),
    plan: spawnedPlanInput({ transport: { ...localTransport, executionSurface: 'remote_ssh' } }),
    declared: ['local_subprocess'],
    actual: 'remote_ssh',
  },
  {
    check: 'manifest_management_mode',
    // parseBackendManifest rejects this pairing now; a manifest built by hand still meets the plan check.
    manifest: { ...spawnedManifest(), managementModes: ['externally_managed' as const] },
    spec: spawnedSpec(),
    plan: spawnedPlanInput(),
    declared: ['externally_managed'],
    actual: 'kernel_managed',
  },
];

describe('validateStartupPlan', () => {
  it('covers every check of STARTUP_PLAN_CHECKS, in SHIC order', () => {
    expect(singleFailures.map((c) => c.check)).toEqual([...STARTUP_PLAN_CHECKS]);
  });

  it.each(singleFailures)(
    'rejects a plan failing $check with invalid_startup_plan naming the check, backend, declared and actual',
    ({ check, manifest, spec, plan, declared, actual }) => {
      const error = rejectionOf(manifest, spec, plan);
      expect(KernelError.isInstance(error)).toBe(true);
      expect(error.code).toBe('invalid_startup_plan');
      expect(error.check).toBe(check);
      expect(error.backend).toBe(manifest.backend);
      expect(error.details).toEqual({ check, declared, actual });
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`"${manifest.backend}"`);
      expect(error.message).toContain(check);
    },
  );

  it('rejects an attached plan that carries a transport (spawned_requires_transport, reversed)', () => {
    const error = rejectionOf(
      attachedManifest(),
      attachedSpec(),
      attachedPlanInput({ transport: localTransport }),
    );
    expect(error.check).toBe('spawned_requires_transport');
    expect(error.details).toMatchObject({ declared: undefined, actual: 'transport' });
  });

  it('rejects a plan that does not match the StartupPlan schema with check "schema" and the zod issues', () => {
    const plan = spawnedPlanInput({ instanceKey: '', readyTimeoutMs: -1, surprise: true });
    const error = rejectionOf(spawnedManifest(), spawnedSpec(), plan);
    expect(error.code).toBe('invalid_startup_plan');
    expect(error.check).toBe('schema');
    expect(error.details.declared).toBe('StartupPlan schema');
    const paths = (error.details.actual as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['instanceKey', 'readyTimeoutMs', 'surprise']));
    expect(error.message).toContain('readyTimeoutMs');
    expect(error.message).toContain('surprise');
  });

  it('rejects a non-object plan (a backend returning nothing) with check "schema"', () => {
    expect(rejectionOf(spawnedManifest(), spawnedSpec(), undefined).check).toBe('schema');
    expect(rejectionOf(spawnedManifest(), spawnedSpec(), 'plan').check).toBe('schema');
  });

  it.each([
    {
      earlier: 'schema',
      manifest: spawnedManifest(),
      spec: spawnedSpec({ startupKind: 'attach_existing_service' }),
      plan: spawnedPlanInput({ port: 0 }),
    },
    {
      earlier: 'requested_startup_kind',
      manifest: spawnedManifest(),
      spec: spawnedSpec(),
      plan: attachedPlanInput(),
    },
    {
      earlier: 'manifest_startup_kind',
      manifest: spawnedManifest(),
      spec: spawnedSpec({ startupKind: undefined }),
      plan: attachedPlanInput({ managementMode: 'kernel_managed' }),
    },
    {
      earlier: 'startup_kind_management_mode_pair',
      manifest: spawnedManifest(),
      spec: spawnedSpec(),
      plan: spawnedPlanInput({ managementMode: 'externally_managed', transport: undefined }),
    },
    {
      earlier: 'spawned_requires_transport',
      manifest: attachedManifest(),
      spec: attachedSpec({ executionSurface: 'container' }),
      plan: attachedPlanInput({ transport: localTransport }),
    },
    {
      earlier: 'execution_surface_shape',
      manifest: spawnedManifest({ supportedSurfaces: ['local_subprocess'] }),
      spec: spawnedSpec({ executionSurface: 'container' }),
      plan: spawnedPlanInput({ transport: { ...localTransport, executionSurface: 'remote_ssh' } }),
    },
    {
      earlier: 'execution_surface_supported',
      manifest: {
        ...spawnedManifest({ supportedSurfaces: [] }),
        managementModes: ['externally_managed' as const],
      },
      spec: spawnedSpec(),
      plan: spawnedPlanInput(),
    },
  ])('reports $earlier when a plan also fails the check after it', ({ earlier, manifest, spec, plan }) => {
    expect(rejectionOf(manifest, spec, plan).check).toBe(earlier);
  });

  it('accepts a valid spawned plan and fills every default', () => {
    const plan = validateStartupPlan(
      spawnedManifest(),
      spawnedSpec({ executionSurface: 'local_subprocess' }),
      spawnedPlanInput({ transport: localTransport }),
    );
    expect(plan).toMatchObject({
      instanceKey: 'test-spawned:model-a',
      startupKind: 'spawned',
      managementMode: 'kernel_managed',
      transport: { ...localTransport, env: {}, executionSurface: 'local_subprocess' },
      readyTimeoutMs: 60_000,
      stallTimeoutMs: 30_000,
      readinessIntervalMs: 10,
      readinessMaxIntervalMs: 500,
      probeTimeoutMs: 2_000,
      healthIntervalMs: 5_000,
      functionalHealthIntervalMs: 30_000,
      healthFailureThreshold: 3,
      idleShutdownMs: 300_000,
      stopTimeoutMs: 5_000,
      portRetries: 3,
      restartPolicy: {
        mode: 'on_failure',
        maxRestarts: 5,
        windowMs: 60_000,
        backoffBaseMs: 250,
        backoffFactor: 2,
        backoffMaxMs: 10_000,
        jitter: 0.2,
      },
      endpointTemplate: { headers: {}, capabilities: {}, metadata: {} },
      backendState: {},
    });
  });

  it('accepts a valid attached plan without a transport and fills defaults', () => {
    const plan = validateStartupPlan(attachedManifest(), attachedSpec(), attachedPlanInput());
    expect(plan.transport).toBeUndefined();
    expect(plan).toMatchObject({
      startupKind: 'attach_existing_service',
      managementMode: 'externally_managed',
      readyTimeoutMs: 60_000,
      idleShutdownMs: 300_000,
      endpointTemplate: { modelIdentity: 'tiny', headers: {} },
    });
  });

  it('accepts a plan when the spec names no startup kind and no surface', () => {
    const spec = spawnedSpec({ startupKind: undefined });
    expect(validateStartupPlan(spawnedManifest(), spec, spawnedPlanInput()).startupKind).toBe('spawned');
  });
});
