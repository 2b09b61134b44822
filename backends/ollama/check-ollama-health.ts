import {
  errorMessage,
  type HealthResult,
  type InstanceTarget,
  type ProbeContext,
} from 'self-hosted-inference-core';
import { getOllamaVersion, listLoadedOllamaModels, showOllamaModel } from './ollama-api.js';
import { sameOllamaModel } from './ollama-model-name.js';
import { ollamaTarget } from './ollama-target.js';

/**
 * Health of an attachment: the daemon answers `GET /api/version`, and `GET /api/ps` lists the model →
 * `healthy`; installed but not loaded → `degraded` ("model installed but not loaded"); daemon unreachable or
 * model gone → `unavailable`. Never changes anything on the daemon.
 */
export async function checkOllamaHealth(
  target: InstanceTarget,
  context: ProbeContext,
): Promise<HealthResult> {
  const { conn, state } = ollamaTarget(target);
  const { rootUrl, model } = state;
  let version: Awaited<ReturnType<typeof getOllamaVersion>>;
  try {
    version = await getOllamaVersion(conn, { signal: context.signal });
  } catch (error) {
    return { status: 'unavailable', detail: `Ollama at ${rootUrl} is unreachable: ${errorMessage(error)}` };
  }
  if ('status' in version) {
    return {
      status: 'unavailable',
      detail: `GET /api/version answered HTTP ${version.status}: ${version.message}`,
    };
  }
  const metadata = { ollamaVersion: version.version };
  const loaded = await listLoadedOllamaModels(conn, { signal: context.signal });
  if (!Array.isArray(loaded)) {
    return {
      status: 'degraded',
      detail: `GET /api/ps answered HTTP ${loaded.status}: ${loaded.message}`,
      metadata,
    };
  }
  if (loaded.some((name) => sameOllamaModel(name, model))) {
    return { status: 'healthy', detail: 'model loaded', metadata: { ...metadata, modelLoaded: true } };
  }
  const shown = await showOllamaModel(conn, model, { signal: context.signal });
  if (shown.state === 'installed') {
    return {
      status: 'degraded',
      detail: 'model installed but not loaded',
      metadata: { ...metadata, modelLoaded: false },
    };
  }
  if (shown.state === 'missing') {
    return {
      status: 'unavailable',
      detail: `model ${model} is no longer installed (run \`ollama pull ${model}\`)`,
      metadata: { ...metadata, modelLoaded: false },
    };
  }
  return {
    status: 'degraded',
    detail: `POST /api/show answered HTTP ${shown.status}: ${shown.message}`,
    metadata,
  };
}
