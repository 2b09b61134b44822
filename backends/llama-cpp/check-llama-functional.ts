import {
  errorMessage,
  type HealthResult,
  httpProbe,
  type InstanceTarget,
  type ProbeContext,
} from 'self-hosted-inference-core';
import { llamaServerTarget } from './llama-server-target.js';

/**
 * A functional check for a server whose `/health` says ok while generation is broken: a 1-token completion
 * (`POST /v1/completions {prompt:"a", max_tokens:1}`). 200 → healthy; an HTTP error → degraded; no answer →
 * unavailable. Costs one decode step, so the kernel runs it rarely (`plan.functionalHealthIntervalMs`).
 */
export async function checkLlamaFunctional(
  target: InstanceTarget,
  context: ProbeContext,
): Promise<HealthResult> {
  const { state, headers } = llamaServerTarget(target);
  try {
    const response = await httpProbe(`${state.serverUrl}/v1/completions`, {
      headers,
      json: { model: state.alias, prompt: 'a', max_tokens: 1 },
      signal: context.signal,
      timeoutMs: Math.max(target.plan.probeTimeoutMs, 10_000),
    });
    return response.status === 200
      ? { status: 'healthy', detail: '1-token completion succeeded' }
      : {
          status: 'degraded',
          detail: `1-token completion answered HTTP ${response.status}: ${response.body.slice(0, 200)}`,
        };
  } catch (error) {
    return { status: 'unavailable', detail: `1-token completion failed: ${errorMessage(error)}` };
  }
}
