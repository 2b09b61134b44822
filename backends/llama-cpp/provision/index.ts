export { buildLlamaServer, LLAMA_SERVER_CMAKE_OPTIONS, parseBuildPercent } from './build-llama-server.js';
export {
  type BuildTools,
  checkBuildTools,
  findExecutable,
  installHint,
  type WhichFn,
} from './build-tools-check.js';
export {
  defaultCacheHome,
  defaultLlamaServerCacheDir,
  NODE_LLAMA_CPP_VERSION,
  type VersionPaths,
  versionPaths,
} from './cache-paths.js';
export { type LlamaCppSourceOptions, llamaCppSourceDir, vocabModelPath } from './llama-cpp-source.js';
export { probeLlamaServerVersion } from './probe-llama-server.js';
export type { ProvisionPhase, ProvisionProgress } from './provision-context.js';
export { ProvisionError, type ProvisionErrorCode } from './provision-error.js';
export {
  type ProvisionedLlamaServer,
  type ProvisionLlamaServerOptions,
  provisionLlamaServer,
} from './provision-llama-server.js';
