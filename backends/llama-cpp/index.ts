// Public entry `self-hosted-inference-core/llama-cpp`: the llama.cpp backend and its provisioning.
export {
  LLAMA_CPP_DEFAULTS,
  type LlamaCppBootSpec,
  type LlamaCppBootSpecInput,
  llamaCppBootSpecSchema,
  type NormalizeBootSpecOptions,
  normalizeLlamaCppBootSpec,
} from './boot-spec.js';
export { buildLlamaServerArgs } from './build-llama-server-args.js';
export {
  buildLlamaServerEnv,
  inheritedLlamaServerVars,
  LLAMA_API_KEY_ENV,
} from './build-llama-server-env.js';
export { checkGgufModel, GGUF_MAGIC } from './check-gguf-model.js';
export { checkLlamaFunctional } from './check-llama-functional.js';
export { checkLlamaHealth } from './check-llama-health.js';
export {
  type CheckedLlamaServer,
  checkLlamaServerBinary,
  resolveLlamaServerBinary,
} from './check-llama-server-binary.js';
export {
  cachedLlamaServer,
  type FoundLlamaServer,
  findLlamaServer,
  type LlamaServerSource,
} from './find-llama-server.js';
export { llamaCppInstanceKey, llamaCppKeyMaterial } from './instance-key.js';
export { interpretLlamaServerOutput } from './interpret-llama-server-output.js';
export {
  createLlamaCppBackend,
  type LlamaCppBackendOptions,
  llamaCppManifest,
  llamaCppStartupPlan,
} from './llama-cpp-backend.js';
export { type LlamaCppBackendState, llamaServerTarget } from './llama-server-target.js';
export { probeLlamaReadiness } from './probe-llama-readiness.js';
export * from './provision/index.js';
