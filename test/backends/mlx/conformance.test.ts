// The mlx backend under the backend-author conformance kit, spawning the mlx_lm.server stand-in on a
// machine that is not macOS arm64 (allowUnsupportedPlatform).
import { createMlxBackend } from 'self-hosted-inference-core/mlx';
import { describeBackendConformance } from 'self-hosted-inference-core/testing/vitest';
import { MLX_STAND_IN } from './mlx-stand-in-process.js';

describeBackendConformance(() => createMlxBackend(), {
  name: 'mlx (mlx_lm.server stand-in, allowUnsupportedPlatform)',
  kind: 'spawned',
  spec: {
    backend: 'mlx',
    bootSpec: {
      model: 'mlx-community/tiny-stand-in',
      allowUnsupportedPlatform: true,
      command: [process.execPath, MLX_STAND_IN, '--load-delay-ms', '300'],
    },
  },
});
