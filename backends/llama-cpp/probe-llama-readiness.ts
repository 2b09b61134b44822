import {
  errorMessage,
  httpProbe,
  type InstanceTarget,
  type ProbeContext,
  type ReadinessResult,
} from 'self-hosted-inference-core';
import { llamaServerTarget } from './llama-server-target.js';

/**
 * One readiness probe: `GET /health` → 200 ready; 503 pending ("loading model"); no answer (connection refused,
 * timeout) pending. Never throws for "not yet"; the kernel owns intervals and the deadline.
 */
export async function probeLlamaReadiness(
  target: InstanceTarget,
  context: ProbeContext,
): Promise<ReadinessResult> {
  const { state, headers } = llamaServerTarget(target);
  try {
    const response = await httpProbe(`${state.serverUrl}/health`, {
      headers,
      signal: context.signal,
      timeoutMs: target.plan.probeTimeoutMs,
    });
    if (response.status === 200) return { status: 'ready', detail: 'GET /health answered 200' };
    if (response.status === 503) return { status: 'pending', detail: 'loading model' };
    return { status: 'pending', detail: `GET /health answered HTTP ${response.status}` };
  } catch (error) {
    return { status: 'pending', detail: `not answering yet: ${errorMessage(error)}` };
  }
}
