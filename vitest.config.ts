import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `shic-source` makes `self-hosted-inference-core` self-imports resolve to the TypeScript sources (no build step).
const conditions = ['shic-source', 'module', 'node', 'import', 'default'];

// examples/custom-backend is a package of its own (its package.json ends the self-reference scope), so its
// imports of this package are mapped to the sources explicitly, as the `shic-source` condition maps ours.
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  name: string;
  exports: Record<string, { 'shic-source'?: string } | string>;
};
const alias = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target['shic-source'])
  .map(([key, target]) => ({
    find: new RegExp(`^${pkg.name}${key === '.' ? '' : key.slice(1)}$`),
    replacement: fileURLToPath(
      new URL((target as { 'shic-source': string })['shic-source'], import.meta.url),
    ),
  }));

export default defineConfig({
  resolve: { conditions, alias },
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
