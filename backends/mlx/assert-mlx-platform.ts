import { PlatformUnsupportedError } from 'self-hosted-inference-core';

/** The machine a platform check is about; defaults to this process's. */
export interface MlxPlatform {
  /** @default process.platform */
  platform?: NodeJS.Platform | string;
  /** @default process.arch */
  arch?: string;
}

/**
 * MLX runs only on macOS on Apple silicon; elsewhere `mlx_lm.server` fails after a long install, so refuse
 * early, before anything is spawned, unless the caller knows better.
 * @throws PlatformUnsupportedError (`platform_unsupported`) on anything but darwin/arm64 without
 *   `allowUnsupportedPlatform`.
 */
export function assertMlxPlatform(machine: MlxPlatform = {}, allowUnsupportedPlatform = false): void {
  const platform = machine.platform ?? process.platform;
  const arch = machine.arch ?? process.arch;
  if ((platform === 'darwin' && arch === 'arm64') || allowUnsupportedPlatform) return;
  throw new PlatformUnsupportedError(
    `The mlx backend needs macOS on Apple silicon (darwin/arm64); this machine is ${platform}/${arch}. Use the llama-cpp backend here, or set bootSpec.allowUnsupportedPlatform: true if you run an MLX-compatible server anyway.`,
    { backend: 'mlx', details: { platform, arch, required: 'darwin/arm64' } },
  );
}
