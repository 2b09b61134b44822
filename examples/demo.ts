// Placeholder main job until the llama-cpp demo lands: register a backend manifest and check compatibility.
import { BackendRegistry, checkCompatibility, parseConsumerManifest } from '../src/index.js';

const registry = new BackendRegistry();
registry.register({
  specificationVersion: 'v1',
  id: 'example',
  manifest: {
    backend: 'example',
    runtimeKind: 'service',
    managementModes: ['kernel_managed'],
    startupKind: 'spawned',
    protocols: ['openai_chat_completions'],
    capabilities: { streaming: true },
    supportedSurfaces: ['local_subprocess'],
  },
  startupPlan: () => {
    throw new Error('not started in this demo');
  },
  probeReadiness: async () => ({ status: 'pending' }),
  checkHealth: async () => ({ status: 'healthy' }),
});
const consumer = parseConsumerManifest({
  consumer: 'demo',
  acceptedRuntimeKinds: ['service'],
  acceptedManagementModes: ['externally_managed'],
  acceptedProtocols: ['openai_embeddings'],
  requiredCapabilities: { streaming: true, toolCalling: true },
});
console.log(JSON.stringify(checkCompatibility(registry.getManifest('example'), consumer), null, 2));
