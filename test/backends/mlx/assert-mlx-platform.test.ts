import { describe, expect, it } from 'vitest';
import { assertMlxPlatform } from '../../../backends/mlx/index.js';

describe('assertMlxPlatform', () => {
  it('accepts macOS on Apple silicon', () => {
    expect(() => assertMlxPlatform({ platform: 'darwin', arch: 'arm64' })).not.toThrow();
  });

  it.each([
    ['linux', 'x64'],
    ['linux', 'arm64'],
    ['darwin', 'x64'],
    ['win32', 'x64'],
  ])('refuses %s/%s with platform_unsupported naming the machine', (platform, arch) => {
    expect(() => assertMlxPlatform({ platform, arch })).toThrow(
      expect.objectContaining({
        code: 'platform_unsupported',
        backend: 'mlx',
        details: { platform, arch, required: 'darwin/arm64' },
        message: expect.stringContaining(`${platform}/${arch}`),
      }),
    );
  });

  it('lets allowUnsupportedPlatform through anywhere', () => {
    expect(() => assertMlxPlatform({ platform: 'linux', arch: 'x64' }, true)).not.toThrow();
  });
});
