// Valid contract values for tests: each builder returns a fresh, schema-valid input that a test can override.
import type { Backend } from '../../src/backend/backend.js';
import { type BackendManifest, parseBackendManifest } from '../../src/contracts/backend-manifest.js';
import { type ConsumerManifest, parseConsumerManifest } from '../../src/contracts/consumer-manifest.js';
import { type InstanceSpec, parseInstanceSpec } from '../../src/contracts/instance-spec.js';
import type { StartupPlanInput } from '../../src/contracts/startup-plan.js';

/** A spawned, kernel-managed backend manifest input (llama-cpp-like). */
export function spawnedManifestInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    contractVersion: 'inference.v1',
    backend: 'test-spawned',
    runtimeKind: 'service',
    managementModes: ['kernel_managed'],
    startupKind: 'spawned',
    protocols: ['openai_chat_completions', 'openai_completions'],
    capabilities: { streaming: true, toolCalling: 'unknown', embeddings: false },
    supportedSurfaces: ['local_subprocess'],
    resourceProfile: { memoryBytes: 1_048_576 },
    metadata: { family: 'test' },
    ...overrides,
  };
}

/** An attached, externally managed backend manifest input (ollama-like). */
export function attachedManifestInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    backend: 'test-attached',
    runtimeKind: 'service',
    managementModes: ['externally_managed'],
    startupKind: 'attach_existing_service',
    protocols: ['openai_chat_completions', 'ollama_native'],
    capabilities: { streaming: true },
    ...overrides,
  };
}

/** Parsed (defaults filled) versions of the manifests above. */
export function spawnedManifest(overrides: Record<string, unknown> = {}): BackendManifest {
  return parseBackendManifest(spawnedManifestInput(overrides));
}
export function attachedManifest(overrides: Record<string, unknown> = {}): BackendManifest {
  return parseBackendManifest(attachedManifestInput(overrides));
}

/** A consumer that accepts everything the spawned manifest offers. */
export function consumerInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    contractVersion: 'inference.v1',
    consumer: 'test-consumer',
    acceptedRuntimeKinds: ['service'],
    acceptedManagementModes: ['kernel_managed', 'externally_managed'],
    acceptedProtocols: ['openai_chat_completions'],
    requiredCapabilities: { streaming: true },
    optionalCapabilities: {},
    constraints: {},
    metadata: {},
    ...overrides,
  };
}
export function consumer(overrides: Record<string, unknown> = {}): ConsumerManifest {
  return parseConsumerManifest(consumerInput(overrides));
}

/** A spec asking for a spawned instance of `test-spawned`. */
export function spawnedSpec(overrides: Record<string, unknown> = {}): InstanceSpec {
  return parseInstanceSpec({ backend: 'test-spawned', startupKind: 'spawned', ...overrides });
}
export function attachedSpec(overrides: Record<string, unknown> = {}): InstanceSpec {
  return parseInstanceSpec({
    backend: 'test-attached',
    startupKind: 'attach_existing_service',
    ...overrides,
  });
}

/** A valid spawned plan input (no defaults filled). */
export function spawnedPlanInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instanceKey: 'test-spawned:model-a',
    startupKind: 'spawned',
    managementMode: 'kernel_managed',
    transport: { command: process.execPath, args: ['--version'], executionSurface: 'local_subprocess' },
    port: 18_080,
    endpointTemplate: { protocol: 'openai_chat_completions', baseUrl: 'http://127.0.0.1:18080/v1' },
    ...overrides,
  };
}

/** A valid attached plan input (no transport). */
export function attachedPlanInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instanceKey: 'test-attached:http://127.0.0.1:11434',
    startupKind: 'attach_existing_service',
    managementMode: 'externally_managed',
    endpointTemplate: {
      protocol: 'openai_chat_completions',
      baseUrl: 'http://127.0.0.1:11434/v1',
      modelIdentity: 'tiny',
    },
    ...overrides,
  };
}

/** A valid endpoint descriptor input. */
export function endpointDescriptorInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    endpointId: 'inst-1:endpoint',
    runtimeKind: 'service',
    managementMode: 'kernel_managed',
    protocol: 'openai_chat_completions',
    baseUrl: 'http://127.0.0.1:18080/v1',
    providerIdentity: 'test-spawned',
    sourceRuntime: 'test-spawned',
    sourceRuntimeRef: 'inst-1',
    healthRef: 'inst-1',
    ...overrides,
  };
}

/** A valid `ensureEndpoint` request input. */
export function endpointRequestInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    requestId: 'req-1',
    targetPreference: { backend: 'test-spawned', startupKind: 'spawned', bootSpec: { model: '/m.gguf' } },
    modelPreference: { id: 'tiny' },
    ...overrides,
  };
}

/** A valid lease input. */
export function leaseInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    leaseRef: 'lease-1',
    instanceId: 'inst-1',
    ownerRef: 'worker-1',
    ttlMs: 30_000,
    expiresAt: 1_700_000_030_000,
    acquiredAt: 1_700_000_000_000,
    ...overrides,
  };
}

/** A valid runtime snapshot input. */
export function runtimeSnapshotInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instanceId: 'inst-1',
    instanceKey: 'test-spawned:model-a',
    backend: 'test-spawned',
    startupKind: 'spawned',
    managementMode: 'kernel_managed',
    state: 'ready',
    health: 'healthy',
    leaseCount: 0,
    endpoint: endpointDescriptorInput(),
    pid: 4242,
    port: 18_080,
    restarts: 0,
    startedAt: 1_700_000_000_000,
    readyAt: 1_700_000_000_100,
    ...overrides,
  };
}

/**
 * A minimal v1 backend around a manifest. Its plan and probes are real functions over plain data: the
 * registry never calls them, so they only need to exist.
 */
export function backendFor(manifest: Record<string, unknown>, id = String(manifest.backend)): Backend {
  return {
    specificationVersion: 'v1',
    id,
    manifest: manifest as unknown as Backend['manifest'],
    startupPlan: () => spawnedPlanInput() as unknown as StartupPlanInput,
    probeReadiness: async () => ({ status: 'ready' }),
    checkHealth: async () => ({ status: 'healthy' }),
  };
}
