import type { BackendManifestInput } from 'self-hosted-inference-core';

/**
 * What the MLX backend claims: a kernel-spawned `mlx_lm.server` serving OpenAI chat and text completions
 * with streaming. `mlx_lm.server` has no API key support (`capabilities.apiKey: false`): keep it on
 * 127.0.0.1, or put an authenticating proxy in front of it.
 */
export const MLX_MANIFEST = {
  backend: 'mlx',
  runtimeKind: 'service',
  managementModes: ['kernel_managed'],
  startupKind: 'spawned',
  protocols: ['openai_chat_completions', 'openai_completions'],
  capabilities: { streaming: true, apiKey: false, toolCalling: 'unknown', embeddings: false },
  supportedSurfaces: ['local_subprocess'],
  resourceProfile: { platform: 'darwin-arm64', accelerator: 'Apple silicon GPU (Metal)' },
  metadata: {
    server: 'mlx_lm.server',
    apiKey:
      'mlx_lm.server has no API key support; it binds 127.0.0.1 by default. Put an authenticating proxy in front to expose it.',
    readiness:
      'a 1-token completion (its /health is a constant 200 and /v1/models lists the Hugging Face cache)',
  },
} as const satisfies BackendManifestInput;
