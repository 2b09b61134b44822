import {
  errorMessage,
  type InstanceTarget,
  InvalidBootSpecError,
  isConnectionRefused,
  ModelNotFoundError,
  type ProbeContext,
  type ReadinessResult,
  ReadinessTimeoutError,
  ServiceUnreachableError,
} from 'self-hosted-inference-core';
import { getOllamaVersion, showOllamaModel } from './ollama-api.js';
import type { OllamaPullTracker } from './ollama-pull-tracker.js';
import { ollamaTarget } from './ollama-target.js';

/** The typed error a missing model ends in: it names the model and the command that installs it. */
export function ollamaModelNotFound(model: string, rootUrl: string): ModelNotFoundError {
  return new ModelNotFoundError(
    `Model "${model}" is not installed in Ollama at ${rootUrl}. Run \`ollama pull ${model}\`, or attach with the option pull: true.`,
    { backend: 'ollama', details: { model, rootUrl, hint: `ollama pull ${model}` } },
  );
}

/**
 * One readiness probe: `GET /api/version` (is the daemon there?), then `POST /api/show {model}` (is the model
 * installed?). A missing model stays `pending` with a `model_not_found` timeout error, or is pulled once in
 * the background when the attach spec says `pull: true`.
 */
export async function probeOllamaReadiness(
  target: InstanceTarget,
  context: ProbeContext,
  pulls: OllamaPullTracker,
  refusedSince: Map<string, number>,
): Promise<ReadinessResult> {
  const { conn, state } = ollamaTarget(target);
  const { rootUrl, model } = state;
  let version: Awaited<ReturnType<typeof getOllamaVersion>>;
  try {
    version = await getOllamaVersion(conn, { signal: context.signal });
    refusedSince.delete(target.instanceId);
  } catch (error) {
    // A refused connection is certain (nothing listens): fail after connectTimeoutMs, not the ready timeout.
    if (isConnectionRefused(error)) {
      const since = refusedSince.get(target.instanceId) ?? Date.now();
      refusedSince.set(target.instanceId, since);
      if (Date.now() - since >= state.connectTimeoutMs) {
        refusedSince.delete(target.instanceId);
        return {
          status: 'failed',
          error: new ServiceUnreachableError(
            `Nothing listens at ${rootUrl}: Ollama refused every connection for ${state.connectTimeoutMs} ms. Start it with \`ollama serve\`, or point the option rootUrl or OLLAMA_HOST at it (connectTimeoutMs waits longer for a daemon that is still starting).`,
            { backend: 'ollama', details: { rootUrl, connectTimeoutMs: state.connectTimeoutMs } },
          ),
        };
      }
    } else refusedSince.delete(target.instanceId);
    return {
      status: 'pending',
      detail: `Ollama at ${rootUrl} is unreachable: ${errorMessage(error)}`,
      timeoutError: new ReadinessTimeoutError(
        `Ollama at ${rootUrl} did not answer (${errorMessage(error)}). Start it with \`ollama serve\`, or point the option rootUrl or OLLAMA_HOST at it.`,
        { backend: 'ollama', details: { rootUrl } },
      ),
    };
  }
  if ('status' in version) {
    if (version.status === 401 || version.status === 403) {
      return {
        status: 'failed',
        error: new InvalidBootSpecError(
          `Ollama at ${rootUrl} rejected the request (HTTP ${version.status}: ${version.message}); check the apiKey or headers options.`,
          { backend: 'ollama', details: { rootUrl, status: version.status } },
        ),
      };
    }
    return {
      status: 'pending',
      detail: `GET /api/version answered HTTP ${version.status}: ${version.message}`,
    };
  }

  const pull = pulls.watch(target.instanceId, (p) => context.reportProgress(p));
  if (pull?.state === 'running') {
    const percent = pull.progress?.percent;
    return { status: 'pending', detail: `pulling ${model}${percent === undefined ? '' : ` (${percent}%)`}` };
  }
  if (pull?.state === 'failed') {
    pulls.cancel(target.instanceId);
    return {
      status: 'failed',
      error: new ModelNotFoundError(
        `Ollama at ${rootUrl} could not pull model "${model}": ${pull.error?.message}. Check the model name (see https://ollama.com/library).`,
        { backend: 'ollama', details: { model, rootUrl }, cause: pull.error },
      ),
    };
  }

  const shown = await showOllamaModel(conn, model, { signal: context.signal });
  if (shown.state === 'installed') {
    context.logger.debug({ instanceId: target.instanceId, rootUrl, model }, 'ollama model installed');
    return {
      status: 'ready',
      detail: `Ollama ${version.version}`,
      metadata: {
        ollamaVersion: version.version,
        ...(shown.capabilities ? { modelCapabilities: shown.capabilities } : {}),
        ...(shown.contextLength ? { contextLength: shown.contextLength } : {}),
      },
    };
  }
  if (shown.state === 'missing') {
    if (state.pull && !pull) {
      context.logger.info({ instanceId: target.instanceId, rootUrl, model }, 'ollama pull started');
      pulls.start(target.instanceId, conn, model, (p) => context.reportProgress(p));
      return { status: 'pending', detail: `pulling ${model}` };
    }
    return {
      status: 'pending',
      detail: `model ${model} not installed`,
      timeoutError: ollamaModelNotFound(model, rootUrl),
    };
  }
  return { status: 'pending', detail: `POST /api/show answered HTTP ${shown.status}: ${shown.message}` };
}
