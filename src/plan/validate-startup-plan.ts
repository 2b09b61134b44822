import type { BackendManifest } from '../contracts/backend-manifest.js';
import type { InstanceSpec } from '../contracts/instance-spec.js';
import { type StartupPlan, safeParseStartupPlan } from '../contracts/startup-plan.js';
import { MANAGEMENT_MODE_FOR_STARTUP_KIND } from '../contracts/vocabulary.js';
import { InvalidStartupPlanError } from '../errors/error-catalog.js';

/** The truthfulness checks, in SHIC's order. */
export const STARTUP_PLAN_CHECKS = [
  'requested_startup_kind',
  'manifest_startup_kind',
  'startup_kind_management_mode_pair',
  'spawned_requires_transport',
  'execution_surface_shape',
  'execution_surface_supported',
  'manifest_management_mode',
] as const;
export type StartupPlanCheck = (typeof STARTUP_PLAN_CHECKS)[number] | 'schema';

/**
 * Parses a backend's plan and holds it to the backend's manifest and the caller's spec (guides/backend-packages.md).
 * Runs before any side effect: a plan that fails is never started.
 * @throws InvalidStartupPlanError (`invalid_startup_plan`) naming the check, backend, declared and actual values.
 */
export function validateStartupPlan(
  manifest: BackendManifest,
  spec: InstanceSpec,
  planInput: unknown,
): StartupPlan {
  const backend = manifest.backend;
  const fail = (check: StartupPlanCheck, message: string, declared: unknown, actual: unknown): never => {
    throw new InvalidStartupPlanError(
      check,
      `Startup plan of backend "${backend}" fails ${check}: ${message}`,
      {
        backend,
        details: { declared, actual },
      },
    );
  };
  const parsed = safeParseStartupPlan(planInput);
  if (!parsed.success) {
    fail('schema', parsed.error.message, 'StartupPlan schema', parsed.error.issues);
  }
  const plan = (parsed as { data: StartupPlan }).data;

  if (spec.startupKind && spec.startupKind !== plan.startupKind) {
    fail(
      'requested_startup_kind',
      'the plan starts differently than requested',
      spec.startupKind,
      plan.startupKind,
    );
  }
  if (plan.startupKind !== manifest.startupKind) {
    fail(
      'manifest_startup_kind',
      'the manifest declares another startup kind',
      manifest.startupKind,
      plan.startupKind,
    );
  }
  const pairedMode = MANAGEMENT_MODE_FOR_STARTUP_KIND[plan.startupKind];
  if (plan.managementMode !== pairedMode) {
    fail(
      'startup_kind_management_mode_pair',
      `${plan.startupKind} must pair with ${pairedMode}`,
      pairedMode,
      plan.managementMode,
    );
  }
  if (plan.startupKind === 'spawned' && !plan.transport) {
    fail('spawned_requires_transport', 'a spawned plan must carry a transport', 'transport', undefined);
  }
  if (plan.startupKind !== 'spawned' && plan.transport) {
    fail('spawned_requires_transport', 'only spawned plans may carry a transport', undefined, 'transport');
  }
  const surface = plan.transport?.executionSurface;
  if (plan.transport && spec.executionSurface && spec.executionSurface !== surface) {
    fail(
      'execution_surface_shape',
      'the transport runs on another surface than requested',
      spec.executionSurface,
      surface,
    );
  }
  if (surface !== undefined && !manifest.supportedSurfaces.includes(surface)) {
    fail(
      'execution_surface_supported',
      'the manifest does not declare this execution surface',
      manifest.supportedSurfaces,
      surface,
    );
  }
  if (!manifest.managementModes.includes(plan.managementMode)) {
    fail(
      'manifest_management_mode',
      'the manifest does not declare this management mode',
      manifest.managementModes,
      plan.managementMode,
    );
  }
  return plan;
}
