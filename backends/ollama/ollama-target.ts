import type { InstanceTarget } from 'self-hosted-inference-core';
import type { OllamaConnection } from './ollama-api.js';

/** What the Ollama backend keeps in `plan.backendState` (no secrets: headers stay in the endpoint template). */
export interface OllamaBackendState {
  rootUrl: string;
  model: string;
  pull: boolean;
  keepAlive?: string | number;
  unloadOnStop: boolean;
  /** How long refused connections are retried before the attach fails, ms. */
  connectTimeoutMs: number;
}

/** The attachment's connection and state, read back from the instance's plan. */
export function ollamaTarget(target: InstanceTarget): { conn: OllamaConnection; state: OllamaBackendState } {
  const state = target.plan.backendState as unknown as OllamaBackendState;
  return { conn: { rootUrl: state.rootUrl, headers: target.plan.endpointTemplate.headers }, state };
}
