import {
  errorMessage,
  type HealthResult,
  httpProbe,
  type InstanceTarget,
  type ProbeContext,
} from 'self-hosted-inference-core';
import { llamaServerTarget } from './llama-server-target.js';

/**
 * Liveness of a llama-server: `GET /health` 200 with `{"status":"ok"}` → healthy; 503 → degraded ("loading");
 * no answer → unavailable. Servers without `/health` (404, older builds) are judged by `GET /v1/models` instead.
 */
export async function checkLlamaHealth(target: InstanceTarget, context: ProbeContext): Promise<HealthResult> {
  const { state, headers } = llamaServerTarget(target);
  const probe = (route: string) =>
    httpProbe(`${state.serverUrl}${route}`, {
      headers,
      signal: context.signal,
      timeoutMs: target.plan.probeTimeoutMs,
    });
  try {
    const health = await probe('/health');
    if (health.status === 200) {
      const status = health.json<{ status?: unknown }>()?.status;
      return status === undefined || status === 'ok'
        ? { status: 'healthy', detail: 'GET /health: ok' }
        : { status: 'degraded', detail: `GET /health: status ${JSON.stringify(status)}` };
    }
    if (health.status === 503) return { status: 'degraded', detail: 'loading' };
    if (health.status !== 404)
      return { status: 'unavailable', detail: `GET /health answered HTTP ${health.status}` };
    const models = await probe('/v1/models');
    return models.status === 200
      ? { status: 'healthy', detail: 'GET /v1/models: 200 (no /health on this server)' }
      : { status: 'unavailable', detail: `GET /v1/models answered HTTP ${models.status}` };
  } catch (error) {
    return {
      status: 'unavailable',
      detail: `llama-server at ${state.serverUrl} is unreachable: ${errorMessage(error)}`,
    };
  }
}
