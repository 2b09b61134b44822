import { defineConfig } from 'vitest/config';

// `shic-source` makes `self-hosted-inference-core` self-imports resolve to the TypeScript sources (no build step).
const conditions = ['shic-source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['shic-source'] } },
  environments: {
    ssr: { resolve: { conditions, externalConditions: ['shic-source'] } },
    __vitest__: { resolve: { conditions, externalConditions: ['shic-source'] } },
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts', 'guides/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
  },
});
