import type { InstanceTarget, Secret } from 'self-hosted-inference-core';

/** What the llama-cpp plan keeps in `backendState` for its probes; never a secret. */
export interface LlamaCppBackendState {
  /** `http://host:port[apiPrefix]`: where `/health` and `/v1/...` live. */
  serverUrl: string;
  /** Absolute model path (for preflight and messages). */
  modelPath: string;
  /** The binary as configured (a name on PATH or a path). */
  binary: string;
  alias: string;
  embeddings: boolean;
  /** True when requests need the `authorization` header. */
  authenticated: boolean;
}

/** The probe view of an instance: its server URL and the headers its endpoint publishes (auth as a Secret). */
export function llamaServerTarget(target: InstanceTarget): {
  state: LlamaCppBackendState;
  headers: Record<string, string | Secret<string>>;
} {
  return {
    state: target.plan.backendState as unknown as LlamaCppBackendState,
    headers: target.plan.endpointTemplate.headers,
  };
}
