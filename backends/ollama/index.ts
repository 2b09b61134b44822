// The Ollama attach backend (guides/ollama-attach.md): attaches to a daemon it never owns.
export { checkOllamaHealth } from './check-ollama-health.js';
export { type CreateOllamaBackendOptions, createOllamaBackend } from './create-ollama-backend.js';
export {
  getOllamaVersion,
  listLoadedOllamaModels,
  type OllamaCallOptions,
  type OllamaConnection,
  type OllamaHttpFailure,
  setOllamaKeepAlive,
  showOllamaModel,
} from './ollama-api.js';
export {
  type OllamaAttachOptions,
  type OllamaAttachSpec,
  ollamaAttachOptionsContract,
  ollamaAttachOptionsSchema,
  parseOllamaAttachSpec,
} from './ollama-attach-spec.js';
export { DEFAULT_OLLAMA_ROOT, resolveOllamaRoot } from './ollama-host.js';
export { fingerprintHeaders, ollamaInstanceKey } from './ollama-instance-key.js';
export { OLLAMA_MANIFEST } from './ollama-manifest.js';
export { normalizeOllamaModelName, sameOllamaModel } from './ollama-model-name.js';
export {
  type OllamaPullProgress,
  type OllamaPullStatus,
  type PullOllamaModelOptions,
  pullOllamaModel,
} from './ollama-pull.js';
export { ABANDONED_PULL_MS, type OllamaPull, OllamaPullTracker } from './ollama-pull-tracker.js';
export type { OllamaBackendState } from './ollama-target.js';
export { ollamaModelNotFound, probeOllamaReadiness } from './probe-ollama-readiness.js';
