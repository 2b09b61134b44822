import type { Backend } from '../../backend/backend.js';
import type { BackendManifest } from '../../contracts/backend-manifest.js';
import type { InstanceSpecInput } from '../../contracts/instance-spec.js';
import type { StartupPlan } from '../../contracts/startup-plan.js';
import { KernelError } from '../../errors/kernel-error.js';
import { validateStartupPlan } from '../../plan/validate-startup-plan.js';
import { checkManifest } from './check-manifest.js';
import { ConformanceViolation } from './conformance-violation.js';
import { conformanceSpec, planForSpec } from './plan-for-spec.js';

const STARTUP_KIND_OF = { spawned: 'spawned', attached: 'attach_existing_service' } as const;
const OTHER_KIND = { spawned: 'attach_existing_service', attach_existing_service: 'spawned' } as const;
const OTHER_MODE = { kernel_managed: 'externally_managed', externally_managed: 'kernel_managed' } as const;
const UNDECLARED_SURFACE = 'conformance_undeclared_surface';

// A lie the validator must catch: the manifest copy, and the check the validator should fail on.
interface Lie {
  what: string;
  manifest: BackendManifest;
}

function liesAbout(manifest: BackendManifest, plan: StartupPlan): Lie[] {
  const lies: Lie[] = [
    {
      what: 'another startup kind',
      manifest: { ...manifest, startupKind: OTHER_KIND[manifest.startupKind] },
    },
    {
      what: 'another management mode',
      manifest: { ...manifest, managementModes: [OTHER_MODE[plan.managementMode]] },
    },
  ];
  if (plan.transport) {
    lies.push({
      what: 'another execution surface',
      manifest: { ...manifest, supportedSurfaces: [UNDECLARED_SURFACE] },
    });
  }
  return lies;
}

/**
 * Rule `manifest-truthfulness`: the manifest's startup kind matches `kind`, the plan for `spec` passes
 * `validateStartupPlan` against the manifest, and copies of the manifest that lie (other startup kind,
 * other management mode, other execution surface) make the same plan fail validation.
 * @returns the validated plan.
 * @throws ConformanceViolation naming the failing check and the declared/actual values.
 */
export async function checkManifestTruthfulness(
  backend: Backend,
  specInput: InstanceSpecInput,
  kind?: 'spawned' | 'attached',
): Promise<StartupPlan> {
  const manifest = checkManifest(backend);
  const rule = 'manifest-truthfulness';
  if (kind !== undefined && manifest.startupKind !== STARTUP_KIND_OF[kind]) {
    throw new ConformanceViolation(
      rule,
      backend.id,
      `the suite says "${kind}" but the manifest declares another startup kind`,
      {
        expected: STARTUP_KIND_OF[kind],
        manifestStartupKind: manifest.startupKind,
      },
    );
  }
  const spec = conformanceSpec(rule, backend, specInput);
  const input = await planForSpec(rule, backend, spec);
  let plan: StartupPlan;
  try {
    plan = validateStartupPlan(manifest, spec, input);
  } catch (error) {
    const details = KernelError.isInstance(error) ? error.details : undefined;
    throw new ConformanceViolation(
      rule,
      backend.id,
      `the plan for the spec fails validateStartupPlan against the backend's own manifest (${(error as Error).message})`,
      details,
      error,
    );
  }
  for (const lie of liesAbout(manifest, plan)) {
    let rejected = false;
    try {
      validateStartupPlan(lie.manifest, spec, input);
    } catch (error) {
      rejected = KernelError.isInstance(error) && error.code === 'invalid_startup_plan';
    }
    if (!rejected) {
      throw new ConformanceViolation(
        rule,
        backend.id,
        `a manifest copy declaring ${lie.what} still accepts the plan: the plan does not pin what the manifest claims`,
        {
          startupKind: plan.startupKind,
          managementMode: plan.managementMode,
          surface: plan.transport?.executionSurface,
        },
      );
    }
  }
  return plan;
}
