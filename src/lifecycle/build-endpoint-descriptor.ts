import type { BackendManifest } from '../contracts/backend-manifest.js';
import type { EndpointDescriptor } from '../contracts/endpoint-descriptor.js';
import type { StartupPlan } from '../contracts/startup-plan.js';

/**
 * The endpoint a ready instance publishes, without a lease: built from the plan's endpoint template, with
 * the kernel's fields (ids, source runtime, health reference) filled in. Template capabilities override the
 * manifest's claims.
 */
export function buildEndpointDescriptor(
  instanceId: string,
  manifest: BackendManifest,
  plan: StartupPlan,
): EndpointDescriptor {
  const template = plan.endpointTemplate;
  return {
    endpointId: `${instanceId}:endpoint`,
    runtimeKind: manifest.runtimeKind,
    managementMode: plan.managementMode,
    targetClass: 'self_hosted_endpoint',
    protocol: template.protocol,
    baseUrl: template.baseUrl,
    headers: { ...template.headers },
    providerIdentity: template.providerIdentity ?? manifest.backend,
    modelIdentity: template.modelIdentity ?? null,
    sourceRuntime: manifest.backend,
    sourceRuntimeRef: template.sourceRuntimeRef ?? instanceId,
    leaseRef: null,
    healthRef: instanceId,
    boundaryRef: null,
    capabilities: { ...manifest.capabilities, ...template.capabilities },
    metadata: { ...template.metadata },
  };
}
