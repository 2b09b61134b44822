// The MLX backend : a kernel-spawned mlx_lm.server with functional readiness.
export { assertMlxPlatform, type MlxPlatform } from './assert-mlx-platform.js';
export {
  buildMlxServerCommand,
  type MlxServerCommand,
  type MlxServerCommandSpec,
} from './build-mlx-server-command.js';
export { type CreateMlxBackendOptions, createMlxBackend } from './create-mlx-backend.js';
export {
  type MlxBootSpec,
  type MlxBootSpecInput,
  mlxBootSpecContract,
  mlxBootSpecSchema,
  parseMlxBootSpec,
} from './mlx-boot-spec.js';
export { MLX_MANIFEST } from './mlx-manifest.js';
export type { MlxBackendState } from './mlx-target.js';
export { preflightMlx } from './preflight-mlx.js';
export { type MlxCompletionProbe, probeMlxCompletion } from './probe-mlx-completion.js';
