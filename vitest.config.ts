import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `source` makes `self-hosted-inference-core` self-imports resolve to the TypeScript sources (no build step).
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts', 'guides/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
  },
});
