import type { InstanceTarget } from 'self-hosted-inference-core';

/** What the MLX backend keeps in `plan.backendState`. */
export interface MlxBackendState {
  model: string;
  /** Origin clients and probes use, without `/v1`, e.g. `http://127.0.0.1:8080`. */
  origin: string;
  /** How the server is launched: its own binary, `python -m`, or a custom command prefix. */
  launcher: 'binary' | 'python' | 'command';
}

/** The instance's server origin and model, read back from its plan. */
export function mlxTarget(target: InstanceTarget): MlxBackendState {
  return target.plan.backendState as unknown as MlxBackendState;
}
