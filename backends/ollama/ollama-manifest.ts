import type { BackendManifestInput } from 'self-hosted-inference-core';

/**
 * What the Ollama backend claims: it attaches to a daemon someone else runs (never starts or stops it), serves
 * OpenAI chat completions at `<root>/v1`, and exposes the native API at the root for consumers that want it.
 */
export const OLLAMA_MANIFEST = {
  backend: 'ollama',
  runtimeKind: 'service',
  managementModes: ['externally_managed'],
  startupKind: 'attach_existing_service',
  protocols: ['openai_chat_completions', 'ollama_native'],
  capabilities: { streaming: true, toolCalling: 'unknown', embeddings: 'unknown' },
  supportedSurfaces: [],
  metadata: {
    nativeApi: 'Ollama HTTP API at the root URL (endpoint.sourceRuntimeRef)',
    stopBehavior: 'stop and close never stop the daemon; the model is unloaded only with unloadOnStop: true',
  },
} as const satisfies BackendManifestInput;
